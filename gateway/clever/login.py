"""Log in with Clever and the OAuth callback: state, code de-duplication, identity, hand-off. No Flask here.

* ``start`` makes a ``state`` bound to the browser: the browser keeps a random binding in a cookie, the database
  keeps the hashes of both, so a state works once, only in the browser that asked for it.
* ``callback`` takes arrivals with a state (checked) and without (Clever Portal, Instant Login, Library:
  brief §1.3), accepting the latter or bouncing once through authorize with a fresh state, as configured.
  A code is recorded (hash only) before it is exchanged, so a refresh or a double submit never sends it to
  Clever again; the repeat sees the same result while its hand-off is still unredeemed, else a log-in-again page.
* Every login issues a fresh hand-off and retires the previous one of this browser (shared classroom devices).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gateway.clever.client import CleverClient
from gateway.clever.config import CleverConfig
from gateway.clever.errors import (
    CleverAccessDenied,
    CleverCodeMissing,
    CleverCodeReplayed,
    CleverLoginInProgress,
    CleverNotConfigured,
    CleverStateExpired,
    CleverStateMismatch,
    CleverStateMissing,
)
from gateway.clever.metrics import CleverMetrics
from gateway.clever.privacy import sha256_hex
from gateway.clever.profile import integration_of, launch_record
from gateway.clever.types import CleverUser, Me
from gateway.crypto import Cipher
from gateway.errors import GatewayError
from gateway.handoff.service import HandoffService
from gateway.ops.logs import log_event
from gateway.store import Database
from gateway.store.models.base import utcnow
from gateway.store.models.clever import CleverLoginStateRow
from gateway.store.repositories.audit import AuditRepository
from gateway.store.repositories.clever import CleverLoginRepository
from gateway.store.repositories.clever_roster import CleverDistrictRepository

log = logging.getLogger("gateway.clever.login")

# Codes live a minute at Clever (brief §1.11); we remember them longer to recognise late refreshes.
CODE_MEMORY = dt.timedelta(minutes=15)
REPLAY_WAIT_SECONDS = 5.0


# (Me, Clever user, browser binding) -> (redirect URL, launch id); refusals raise GatewayError.
Handback = Callable[[Me, CleverUser, str | None], tuple[str, str]]


@dataclass(frozen=True)
class LoginStart:
    authorize_url: str
    binding: str  # the browser's cookie value


@dataclass(frozen=True)
class BrowserCookies:
    binding: str | None = None
    bounced: bool = False
    previous_launch_id: str | None = None


@dataclass(frozen=True)
class CallbackResult:
    redirect_url: str
    kind: str  # handoff | replay | bounce
    launch_id: str | None = None
    binding: str | None = None  # a bounce sets a fresh binding cookie


def _context(code_hash: str) -> str:
    return f"clever.oauth_code.redirect:{code_hash}"


class CleverLogin:
    def __init__(self, db: Database, cipher: Cipher, handoff: HandoffService, client: CleverClient,
                 config: CleverConfig, metrics: CleverMetrics) -> None:
        self._metrics = metrics
        self._db = db
        self._cipher = cipher
        self._handoff = handoff
        self._client = client
        self._config = config
        # Logins another feature started (state ``origin``) finish there: identity links an LTI user (issue 6).
        self.handbacks: dict[str, Handback] = {}

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
        replay = self._replay(code_hash)
        if replay is not None:
            return replay
        state = params.get("state")
        if not state and self._config.stateless_logins == "bounce":
            if cookies.bounced:
                raise CleverStateMissing()
            bounce = self.start(district_id=None, origin="bounce")
            return CallbackResult(bounce.authorize_url, "bounce", binding=bounce.binding)
        initiated_by = self._claim(code_hash, state, cookies)
        if initiated_by is None:
            replay = self._replay(code_hash)
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
        """Check and spend the state, and record the code, in one transaction. None: someone took the code."""
        now = utcnow()
        with self._db.transaction() as s:
            repo = CleverLoginRepository(s)
            initiated_by = "clever"
            if state:
                row = repo.state(sha256_hex(state))
                if row is None or not cookies.binding or row.binding_hash != sha256_hex(cookies.binding):
                    raise CleverStateMismatch()
                if row.expires_at <= now:
                    raise CleverStateExpired()
                if not repo.use_state(row.state_hash, now):
                    raise CleverStateMismatch("This sign-in was already completed.")
                initiated_by = "clever" if row.origin == "bounce" else (
                    row.origin if row.origin in self.handbacks else "app")
            if not repo.claim_code(code_hash, now, now + CODE_MEMORY):
                return None
            return initiated_by

    def _complete(self, code: str, code_hash: str, initiated_by: str, cookies: BrowserCookies) -> CallbackResult:
        grant = self._client.exchange_code(code)
        me = self._client.me(grant.access_token)
        user = self._client.user(grant.access_token, me.user_id)
        handback = self.handbacks.get(initiated_by)
        if handback is not None:
            redirect_url, launch_id = handback(me, user, cookies.binding)
            with self._db.transaction() as s:
                CleverLoginRepository(s).finish_code(code_hash, launch_id,
                                                     self._cipher.encrypt(redirect_url, _context(code_hash)))
            return CallbackResult(redirect_url, "handoff", launch_id=launch_id)
        now = utcnow()
        with self._db.transaction() as s:
            repo = CleverLoginRepository(s)
            district = CleverDistrictRepository(s).get(me.district_id) if me.district_id else None
            integration = integration_of(me, district_connected=district is not None and district.status == "connected")
            gateway_user = repo.user_for(user.id)
            previous = cookies.previous_launch_id
            record = launch_record(me=me, user=user, integration=integration, gateway_user_id=gateway_user.id,
                                   initiated_by=initiated_by, previous_launch_id=previous)
            handoff = self._handoff.issue_in(s, "clever", record, user_id=gateway_user.id)
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

    def _replay(self, code_hash: str) -> CallbackResult | None:
        """A code seen before: the same result while its hand-off is open, else a refusal. None: new code."""
        deadline = time.monotonic() + REPLAY_WAIT_SECONDS
        while True:
            with self._db.transaction() as s:
                repo = CleverLoginRepository(s)
                row = repo.code(code_hash)
                if row is None:
                    return None
                if row.status == "done" and row.launch_id and row.redirect_encrypted:
                    if repo.handoff_open(row.launch_id, utcnow()):
                        url = self._cipher.decrypt(row.redirect_encrypted, _context(code_hash))
                        return CallbackResult(url, "replay", launch_id=row.launch_id)
                    raise CleverCodeReplayed()
                if row.status == "failed":
                    raise CleverCodeReplayed(extra={"first_error_code": row.error_code})
            if time.monotonic() >= deadline:
                raise CleverLoginInProgress()
            time.sleep(0.1)

    def _fail(self, code_hash: str, error_code: str) -> None:
        with self._db.transaction() as s:
            CleverLoginRepository(s).fail_code(code_hash, error_code)
        log_event(log, logging.WARNING, "clever login failed", error_code=error_code)
