"""Log in with Clever and the OAuth callback: state, code de-duplication, identity, hand-off. No Flask here.

* ``start`` makes a ``state`` bound to the browser: the browser keeps a random binding in a cookie, the database
  keeps the hashes of both, so a state works once, only in the browser that asked for it.
* ``callback`` takes arrivals with a state (checked) and without (Clever Portal, Instant Login, Library:
  Clever's OAuth docs), accepting the latter or bouncing through authorize with a fresh state, as configured.
  A code is recorded (hash only, with the hash of the state it came with) before it is exchanged, so a refresh
  or a double submit never sends it to Clever again.
* A repeat sees the same result only when it comes from the browser that brought the code: the same state and
  that state's binding cookie, or the launch cookie the first answer set. Anyone else holding the callback URL
  (a shared classroom device, a leaked history entry) gets ``CLEVER_CODE_ALREADY_USED`` and a log-in-again page.
* Every login issues a fresh hand-off and retires the previous one of this browser (shared classroom devices).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gateway.clever.client import CleverClient
from gateway.clever.config import CleverConfig
from gateway.clever.errors import (
    CleverAccessDenied,
    CleverBusy,
    CleverCodeMissing,
    CleverCodeReplayed,
    CleverLoginInProgress,
    CleverNotConfigured,
    CleverRateLimited,
    CleverStateExpired,
    CleverStateMismatch,
    CleverStateMissing,
)
from gateway.clever.metrics import CleverMetrics
from gateway.clever.privacy import sha256_hex
from gateway.clever.profile import check_same_user, integration_of, launch_record
from gateway.clever.types import CleverUser, Me
from gateway.crypto import Cipher
from gateway.errors import GatewayError
from gateway.handoff import HandoffService
from gateway.ops.logs import log_event
from gateway.store import Database
from gateway.store.models.base import utcnow
from gateway.store.models.clever import CleverLoginStateRow, CleverOAuthCodeRow
from gateway.store.repositories.audit import AuditRepository
from gateway.store.repositories.clever import CleverLoginRepository
from gateway.store.repositories.clever_roster import CleverDistrictRepository

log = logging.getLogger("gateway.clever.login")

# The browser's half of a state (see ``start``). Set by every view that starts a Clever login, Clever's own and
# identity's link page alike, and read by the callback.
BINDING_COOKIE = "gw_clever_login"

# Codes live a minute at Clever; we remember them longer to recognise late refreshes.
CODE_MEMORY = dt.timedelta(minutes=15)
REPLAY_WAIT_SECONDS = 5.0
# A login whose code is still pending after this long died with its process: a repeat is told the code was used
# instead of waiting for a result that never comes. Clever's code itself is dead after a minute; the login's own
# calls (exchange, /me, the user; interactive retries, 10 s timeouts) give up within about 65 s.
PENDING_LIMIT = dt.timedelta(seconds=90)
# State-less arrivals bounced in a row before the callback refuses (a loop, not a person clicking again).
MAX_BOUNCES = 2


# (Me, Clever user, browser binding) -> (redirect URL, launch id); refusals raise GatewayError.
Handback = Callable[[Me, CleverUser, str | None], tuple[str, str]]


@dataclass(frozen=True)
class LoginStart:
    authorize_url: str
    binding: str  # the browser's cookie value


@dataclass(frozen=True)
class BrowserCookies:
    binding: str | None = None
    bounces: int = 0  # state-less arrivals this browser was just bounced for
    previous_launch_id: str | None = None


@dataclass(frozen=True)
class CallbackResult:
    redirect_url: str
    kind: str  # handoff | replay | bounce
    launch_id: str | None = None
    binding: str | None = None  # a bounce sets a fresh binding cookie
    bounces: int = 0  # a bounce counts itself in a cookie


def _context(code_hash: str) -> str:
    return f"clever.oauth_code.redirect:{code_hash}"


class CleverLogin:
    def __init__(self, db: Database, cipher: Cipher, handoff: HandoffService, client: CleverClient,
                 config: CleverConfig, metrics: CleverMetrics, *, handbacks: Mapping[str, Handback]) -> None:
        self._metrics = metrics
        self._db = db
        self._cipher = cipher
        self._handoff = handoff
        self._client = client
        self._config = config
        # Logins another feature started (state ``origin``) finish there: identity links an LTI user.
        self.handbacks: Mapping[str, Handback] = dict(handbacks)
        self.replay_wait_seconds = REPLAY_WAIT_SECONDS

    def start(self, *, district_id: str | None, origin: str = "app") -> LoginStart:
        if not self._config.configured:
            raise CleverNotConfigured()
        state, binding = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = utcnow()
        row = CleverLoginStateRow(
            state_hash=sha256_hex(state), binding_hash=sha256_hex(binding), district_id=district_id,
            origin=origin, created_at=now,
            expires_at=now + dt.timedelta(seconds=self._config.login_state_ttl_seconds),
        )
        with self._db.transaction() as s:
            CleverLoginRepository(s).add_state(row)
        return LoginStart(self._client.authorize_url(state=state, district_id=district_id), binding)

    def callback(self, params: Mapping[str, str], cookies: BrowserCookies) -> CallbackResult:
        if not self._config.configured:
            raise CleverNotConfigured()
        if params.get("error"):
            raise CleverAccessDenied(extra={"clever_error": params["error"][:60]})
        code = params.get("code", "")
        if not code:
            raise CleverCodeMissing()
        code_hash = sha256_hex(code)
        state = params.get("state") or None
        replay = self._replay(code_hash, state, cookies)
        if replay is not None:
            return replay
        if not state and self._config.stateless_logins == "bounce":
            # A person may click again after a bounce that went nowhere; a third arrival in a row is a loop.
            if cookies.bounces >= MAX_BOUNCES:
                raise CleverStateMissing()
            bounce = self.start(district_id=None, origin="bounce")
            return CallbackResult(bounce.authorize_url, "bounce", binding=bounce.binding,
                                  bounces=cookies.bounces + 1)
        initiated_by = self._claim(code_hash, state, cookies)
        if initiated_by is None:
            replay = self._replay(code_hash, state, cookies)
            if replay is None:
                raise CleverLoginInProgress()
            return replay
        try:
            return self._complete(code, code_hash, initiated_by, cookies)
        except GatewayError as e:
            self._fail(code_hash, e.code)
            raise
        except Exception:
            self._fail(code_hash, "INTERNAL_ERROR")
            raise

    # -- steps ----------------------------------------------------------------------------------------

    def _claim(self, code_hash: str, state: str | None, cookies: BrowserCookies) -> str | None:
        """Check the state, record the code and spend the state, in one transaction. None: someone took the code."""
        now = utcnow()
        with self._db.transaction() as s:
            repo = CleverLoginRepository(s)
            initiated_by = "clever"
            row: CleverLoginStateRow | None = None
            if state:
                row = repo.state(sha256_hex(state))
                if row is None or not cookies.binding or row.binding_hash != sha256_hex(cookies.binding):
                    raise CleverStateMismatch()
                if row.expires_at <= now:
                    raise CleverStateExpired()
                initiated_by = "clever" if row.origin == "bounce" else (
                    row.origin if row.origin in self.handbacks else "app")
            if row is not None and not repo.use_state(row.state_hash, now):
                taken = repo.code(code_hash)
                if taken is not None and taken.state_hash == row.state_hash:
                    return None  # a double submit of this very URL: a replay, which waits for the result
                raise CleverStateMismatch("This sign-in was already completed.")
            if not repo.claim_code(code_hash, now, now + CODE_MEMORY, state_hash=row.state_hash if row else None):
                return None
            return initiated_by

    def _complete(self, code: str, code_hash: str, initiated_by: str, cookies: BrowserCookies) -> CallbackResult:
        handback = self.handbacks.get(initiated_by)
        try:
            grant = self._client.exchange_code(code)
            me = self._client.me(grant.access_token)
            user = self._client.user(grant.access_token, me.user_id)
        except CleverRateLimited as e:
            # A person is waiting: after a short wait (the client's interactive cap) say so instead of hanging.
            wait = max(1, math.ceil(e.retry_after or 0))
            raise CleverBusy(headers={"Retry-After": str(wait)}) from e
        # Refuse what Clever got wrong before writing anything: a refusal stores nothing.
        check_same_user(me, user)
        if handback is not None:
            redirect_url, launch_id = handback(me, user, cookies.binding)
            with self._db.transaction() as s:
                CleverLoginRepository(s).finish_code(code_hash, launch_id,
                                                     self._cipher.encrypt(redirect_url, _context(code_hash)))
            return CallbackResult(redirect_url, "handoff", launch_id=launch_id)
        integration_of(me, district_connected=False)  # only its refusal matters here; the real one is below
        now = utcnow()
        with self._db.transaction() as s:
            repo = CleverLoginRepository(s)
            district = CleverDistrictRepository(s).get(me.district_id) if me.district_id else None
            integration = integration_of(me, district_connected=district is not None and district.status == "connected")
            gateway_user = repo.user_for(user.id)
            previous = cookies.previous_launch_id
            record = launch_record(me=me, user=user, integration=integration, gateway_user_id=gateway_user.id,
                                   initiated_by=initiated_by, previous_launch_id=previous)
            handoff = self._handoff.issue(s, "clever", record, user_id=gateway_user.id)
            repo.finish_code(code_hash, handoff.launch_id, self._cipher.encrypt(handoff.redirect_url,
                                                                                _context(code_hash)))
            if previous:
                repo.expire_handoff(previous, now)
            AuditRepository(s).record("clever", "clever.login", f"user:{gateway_user.id}",
                                      integration=integration, launch_id=handoff.launch_id, roles=record["roles"])
        self._metrics.logins.labels(integration=integration, initiated_by=initiated_by).inc()
        log_event(log, logging.INFO, "clever login", integration=integration, launch_id=handoff.launch_id,
                  initiated_by=initiated_by)
        return CallbackResult(handoff.redirect_url, "handoff", launch_id=handoff.launch_id)

    def _replay(self, code_hash: str, state: str | None, cookies: BrowserCookies) -> CallbackResult | None:
        """A code seen before: its result for the browser that brought it, else a refusal. None: a new code."""
        deadline = time.monotonic() + self.replay_wait_seconds
        while True:
            refusal: GatewayError | None = None
            with self._db.transaction() as s:
                repo = CleverLoginRepository(s)
                row = repo.code(code_hash)
                if row is None:
                    return None
                if row.status == "failed":
                    # Nothing to take over: say why the first try failed.
                    refusal = CleverCodeReplayed(extra={"first_error_code": row.error_code})
                elif not self._same_browser(repo, row, state, cookies):
                    refusal = CleverCodeReplayed()
                elif row.status == "done" and row.launch_id and row.redirect_encrypted:
                    if not repo.handoff_open(row.launch_id, utcnow()):
                        refusal = CleverCodeReplayed()
                    else:
                        url = self._cipher.decrypt(row.redirect_encrypted, _context(code_hash))
                        return CallbackResult(url, "replay", launch_id=row.launch_id)
                elif row.created_at <= utcnow() - PENDING_LIMIT:
                    repo.fail_pending_code(code_hash, "CLEVER_LOGIN_INTERRUPTED")
                    refusal = CleverCodeReplayed(extra={"first_error_code": "CLEVER_LOGIN_INTERRUPTED"})
            if refusal is not None:
                log_event(log, logging.WARNING, "clever code repeat refused", error_code=refusal.code)
                raise refusal
            if time.monotonic() >= deadline:
                raise CleverLoginInProgress()
            time.sleep(0.1)

    @staticmethod
    def _same_browser(repo: CleverLoginRepository, row: CleverOAuthCodeRow, state: str | None,
                      cookies: BrowserCookies) -> bool:
        """Does this repeat come from the browser that brought the code? The URL alone proves nothing."""
        if (sha256_hex(state) if state else None) != row.state_hash:
            return False
        if row.launch_id and cookies.previous_launch_id == row.launch_id:
            return True  # the cookie the first answer set (a refresh or the back button after it arrived)
        if row.state_hash is None or not cookies.binding:
            return False
        issued = repo.state(row.state_hash)
        # The state's binding cookie: a double submit before the first answer reached the browser.
        return issued is not None and issued.binding_hash == sha256_hex(cookies.binding)

    def _fail(self, code_hash: str, error_code: str) -> None:
        with self._db.transaction() as s:
            CleverLoginRepository(s).fail_code(code_hash, error_code)
        log_event(log, logging.WARNING, "clever login failed", error_code=error_code)
