"""Link by logging in with Clever: hold an unmatched person's launch, send them through Clever, link, hand off.

1. :meth:`CleverLinkFlow.hold` (in the launch transaction) keeps the finished launch record encrypted in a
   pending link and gives the browser a one-time page address (a random token; only its hash is stored).
2. The page offers "Log in with Clever" (:meth:`start`: a Clever login state of origin ``identity_link``, bound
   to this browser; the pending link remembers the binding) or "Continue without Clever" (:meth:`skip`: the
   launch is handed off unmatched).
3. Clever's callback checks the state as for any login, exchanges the code and reads the user, then hands
   back to :meth:`complete` (registered as the ``identity_link`` hand-back of
   :class:`gateway.clever.login.CleverLogin`): the district must be the deployment's (a Library login must not
   be in another district's roster), the rules of :mod:`gateway.identity.links` apply, and the held launch is
   handed off naming the Clever id, ``result: clever_login``. A refusal is a page with its code and a conflict
   for an administrator; the person may still go back and continue without Clever.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

import gateway.identity.errors as errors
from gateway.clever import CleverLogin, CleverUser, LoginStart, Me, sha256_hex
from gateway.crypto import Cipher
from gateway.handoff import Handoff, HandoffService
from gateway.identity.links import REHOME_FRESH, REHOME_NEVER, Linked, Links, Refusal
from gateway.identity.metrics import IdentityMetrics
from gateway.store import Database
from gateway.store.models.base import new_id, utcnow
from gateway.store.models.identity import IdentityPendingLinkRow
from gateway.store.models.lti import LtiIdentityRow
from gateway.store.repositories.identity import IdentityConflictRepository, PendingLinkRepository

LINK_ORIGIN = "identity_link"
# After a refused link the person may still go on, unmatched.
SKIPPABLE = ("pending", "started", "refused")
# Long enough to log in with Clever (its state lives 10 minutes by default), short enough to be one sitting.
PENDING_TTL = dt.timedelta(minutes=20)
PAGE_PATH = "/identity/link/"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
_REFUSALS: dict[str, type[errors.IdentityError]] = {
    "linked_elsewhere": errors.IdentityCleverIdLinkedElsewhere,
    "different_users": errors.IdentityMergeRequired,
    "already_linked": errors.IdentityAlreadyLinked,
    "other_district": errors.IdentityDistrictMismatch,
}


def _context(pending_id: str) -> str:
    return f"identity.pending_link.record:{pending_id}"


def with_match(record: dict[str, Any], user_id: str, clever_user_id: str | None,
               clever_match: dict[str, Any]) -> dict[str, Any]:
    """The held launch record, naming the user and Clever identity the link produced."""
    return {
        **record,
        "user": {**record["user"], "id": user_id},
        "clever": {"user_id": clever_user_id} if clever_user_id else None,
        "clever_match": clever_match,
    }


@dataclass(frozen=True)
class PendingView:
    district_id: str
    expires_at: dt.datetime


class CleverLinkFlow:
    def __init__(self, db: Database, cipher: Cipher, handoff: HandoffService, *, public_base_url: str,
                 metrics: IdentityMetrics) -> None:
        self._db = db
        self._cipher = cipher
        self._handoff = handoff
        self._base = public_base_url.rstrip("/")
        self.metrics = metrics

    # -- 1. hold the launch ---------------------------------------------------------------------------------

    def hold(self, session: Any, *, identity_id: str, registration_id: str, deployment_ref: str,
                district_id: str, launch_id: str, record: dict[str, Any], fresh_user: bool) -> Handoff:
        token = secrets.token_urlsafe(32)
        now = utcnow()
        pending_id = new_id("ipl")
        PendingLinkRepository(session).add(IdentityPendingLinkRow(
            id=pending_id, token_hash=sha256_hex(token), lti_identity_id=identity_id, registration_id=registration_id,
            deployment_ref=deployment_ref, district_id=district_id, launch_id=launch_id, fresh_user=fresh_user,
            record_encrypted=self._cipher.encrypt(json.dumps(record), _context(pending_id)), status="pending",
            created_at=now, expires_at=now + PENDING_TTL,
        ))
        # No code yet: the browser goes to the link page, and the hand-off happens when the person chose.
        return Handoff(launch_id, "", f"{self._base}{PAGE_PATH}{token}")

    # -- 2. the page: log in with Clever, or continue without ----------------------------------------------------

    def _open(self, repo: PendingLinkRepository, token: str,
              statuses: tuple[str, ...] = ("pending", "started")) -> IdentityPendingLinkRow:
        row = repo.by_token_hash(sha256_hex(token)) if _TOKEN.match(token or "") else None
        if row is None:
            raise errors.IdentityLinkUnknown()
        if row.status not in statuses or row.expires_at <= utcnow():
            raise errors.IdentityLinkExpired()
        return row

    def view(self, token: str) -> PendingView:
        with self._db.transaction() as s:
            row = self._open(PendingLinkRepository(s), token)
            return PendingView(row.district_id, row.expires_at)

    def start(self, token: str, login: CleverLogin) -> LoginStart:
        """Start a Clever login of origin ``identity_link`` (the Clever callback hands back to :meth:`complete`)."""
        with self._db.transaction() as s:
            district_id = self._open(PendingLinkRepository(s), token).district_id
        started = login.start(district_id=district_id, origin=LINK_ORIGIN)
        with self._db.transaction() as s:
            row = self._open(PendingLinkRepository(s), token)
            # The latest login started from this page is the one that may finish it.
            row.binding_hash = sha256_hex(started.binding)
            row.status = "started"
        return started

    def skip(self, token: str) -> str:
        with self._db.transaction() as s:
            repo = PendingLinkRepository(s)
            row = self._open(repo, token, SKIPPABLE)
            if not repo.claim(row.id, SKIPPABLE, "skipped", utcnow()):
                raise errors.IdentityLinkExpired()
            record = self._record(row)
            conflicted = bool(IdentityConflictRepository(s).open_for(row.lti_identity_id))
            record = {**record, "clever_match": {**record["clever_match"], "conflict": conflicted}}
            handoff = self._handoff.issue(s, "lti", record, user_id=record["user"]["id"], launch_id=row.launch_id)
        return handoff.redirect_url

    def _record(self, row: IdentityPendingLinkRow) -> dict[str, Any]:
        record: dict[str, Any] = json.loads(self._cipher.decrypt(row.record_encrypted, _context(row.id)))
        return record

    # -- 3. back from Clever ------------------------------------------------------------------------------------

    def complete(self, me: Me, user: CleverUser, binding: str | None) -> tuple[str, str]:
        """The Clever callback's hand-back: link, then hand off the held launch. Returns (redirect URL, launch id)."""
        with self._db.transaction() as s:
            repo = PendingLinkRepository(s)
            row = repo.by_binding_hash(sha256_hex(binding)) if binding else None
            if row is None:
                raise errors.IdentityLinkUnknown()
            if row.expires_at <= utcnow() or not repo.claim(row.id, ("started",), "finishing", utcnow()):
                raise errors.IdentityLinkExpired()
            s.refresh(row)
            links = Links(s, f"clever_login:{user.id}")
            identity = links.people.identity(row.lti_identity_id)
            if identity is None:
                raise errors.IdentityLinkUnknown()
            outcome = self._link(links, row, identity, me, user)
            if isinstance(outcome, Refusal):
                # Committed with the refusal: an administrator sees the conflict, the person sees the page.
                links.conflict(identity, kind=outcome.kind, method="clever_login",
                               clever_user_ids=outcome.clever_user_ids, reason=outcome.reason,
                               district_id=row.district_id, details=outcome.details)
                links.matches.upsert(identity.id, identity.registration_id, status="conflict")
                row.status = "refused"
                self.metrics.conflicts.labels(kind=outcome.kind).inc()
                refusal: Refusal | None = outcome
            else:
                refusal = None
                clever_match = {"result": "clever_login", "clever_user_id": user.id, "district_id": row.district_id,
                                "linked_by": "clever_login", "conflict": False}
                record = with_match(self._record(row), outcome.user_id, user.id, clever_match)
                row.status = "linked"
                handoff = self._handoff.issue(s, "lti", record, user_id=outcome.user_id, launch_id=row.launch_id)
                self.metrics.links.labels(method="clever_login").inc()
                self.metrics.matches.labels(result="clever_login").inc()
        if refusal is not None:
            raise _REFUSALS[refusal.kind](extra={"conflict_kind": refusal.kind})
        return handoff.redirect_url, handoff.launch_id

    def _link(self, links: Links, row: IdentityPendingLinkRow, identity: LtiIdentityRow, me: Me,
              user: CleverUser) -> Linked | Refusal:
        # A district login names its district; a Library login has none, but the roster may place the user.
        home = me.district_id if me.authorized_by == "district" else links.people.roster_district_of(user.id)
        if home is not None and home != row.district_id:
            return Refusal("other_district", (user.id,), "the person logged in as a Clever user of another district",
                           {"clever_district_id": home})
        owner = identity.user_id
        # Fold the launch's user into the Clever user's only if nothing was ever handed off for it.
        fresh = (row.fresh_user and links.people.launch_count(owner) == 0
                 and len(links.people.identities_of(owner)) == 1)
        return links.link(identity, user.id, method="clever_login",
                          reason="the person logged in with Clever from the LMS launch",
                          rehome=REHOME_FRESH if fresh else REHOME_NEVER, district_id=row.district_id,
                          deployment_ref=row.deployment_ref)

    def purge_expired(self) -> int:
        with self._db.transaction() as s:
            return PendingLinkRepository(s).purge_expired(utcnow())
