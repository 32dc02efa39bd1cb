"""Link, unlink and conflicts, inside the caller's transaction, each audited with its reason. No Flask here.

The rules that protect students live here, whatever asked for the link (a launch, a Clever login, an
administrator):

* A gateway user has at most one Clever id; an identity linked to one Clever id is not re-linked to another
  (``already_linked``: unlink first).
* A Clever id already held by a gateway user that has another LTI identity in the same registration is not
  linked again (``linked_elsewhere``): two accounts of one LMS claiming one Clever person needs a person to look.
* Two established gateway users are never merged silently (``different_users``). Only a user the same
  launch made a moment ago (nothing was handed off for it) is folded into the Clever user's gateway user;
  an administrator's explicit link moves the identity and leaves the old user in place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from gateway.store.models.base import new_id, utcnow
from gateway.store.models.identity import IdentityConflictRow
from gateway.store.models.lti import LtiIdentityRow
from gateway.store.repositories.audit import AuditRepository
from gateway.store.repositories.identity import IdentityConflictRepository, IdentityMatchRepository
from gateway.store.repositories.identity_people import IdentityPeopleRepository
from gateway.store.repositories.users import UserRepository

# How the identity may leave its gateway user to join the Clever id's user.
REHOME_NEVER = "never"  # a conflict instead
REHOME_FRESH = "fresh"  # the identity's user was made by this very launch: fold it in, delete the empty user
REHOME_ADMIN = "admin"  # an administrator said so: move the identity, keep the old user
# Conflict kinds a later link does not resolve by itself.
KEEP_OPEN = ("other_district",)


@dataclass(frozen=True)
class Refusal:
    kind: str
    clever_user_ids: tuple[str, ...]
    reason: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Linked:
    user_id: str
    clever_user_id: str
    changed: bool
    moved_from: str | None = None


def target(identity_id: str) -> str:
    return f"lti_identity:{identity_id}"


class Links:
    def __init__(self, session: Session, actor: str) -> None:
        self._s = session
        self.actor = actor
        self.people = IdentityPeopleRepository(session)
        self.matches = IdentityMatchRepository(session)
        self.conflicts = IdentityConflictRepository(session)
        self.audit = AuditRepository(session)

    # -- link -----------------------------------------------------------------------------------------------

    def check(self, identity: LtiIdentityRow, clever_user_id: str, rehome: str) -> Refusal | None:
        """Why this link must not be made, or None. Writes nothing."""
        user = self.people.user(identity.user_id)
        assert user is not None  # the foreign key guarantees it
        if user.clever_user_id == clever_user_id:
            return None
        if user.clever_user_id is not None:
            return Refusal("already_linked", (user.clever_user_id, clever_user_id),
                           "the identity's gateway user is linked to another Clever id")
        holder = self.people.user_by_clever_id(clever_user_id)
        if holder is None:
            return None
        other = self.people.other_identity_on_registration(holder.id, identity.registration_id, identity.id)
        if other is not None:
            return Refusal("linked_elsewhere", (clever_user_id,),
                           "the Clever id is linked to another LTI identity of the same registration",
                           {"other_lti_identity_id": other.id, "clever_gateway_user_id": holder.id})
        if rehome == REHOME_NEVER:
            return Refusal("different_users", (clever_user_id,),
                           "the Clever id belongs to another established gateway user; merging needs an administrator",
                           {"lti_gateway_user_id": user.id, "clever_gateway_user_id": holder.id})
        return None

    def link(self, identity: LtiIdentityRow, clever_user_id: str, *, method: str, reason: str, rehome: str,
             district_id: str | None, deployment_ref: str | None = None) -> Linked | Refusal:
        refusal = self.check(identity, clever_user_id, rehome)
        if refusal is not None:
            return refusal
        user = self.people.user(identity.user_id)
        assert user is not None
        moved_from: str | None = None
        changed = user.clever_user_id != clever_user_id
        if changed:
            holder = self.people.user_by_clever_id(clever_user_id)
            if holder is None:
                if not self.people.set_clever_id(user, clever_user_id):
                    return self._lost_race(identity, clever_user_id)
            else:
                moved_from = user.id
                self.people.move_identity(identity, holder.id)
                if rehome == REHOME_FRESH:
                    self.people.fold_user(user.id, holder.id)
                user = holder
        now = utcnow()
        self.matches.upsert(identity.id, identity.registration_id, status="matched", method=method,
                            clever_user_id=clever_user_id, district_id=district_id, matched_at=now,
                            blocked_clever_user_id=None,
                            **({"deployment_ref": deployment_ref} if deployment_ref else {}))
        if changed:
            self.audit.record(self.actor, "identity.link", target(identity.id), method=method, reason=reason,
                              clever_user_id=clever_user_id, user_id=user.id, moved_from_user_id=moved_from,
                              registration_id=identity.registration_id, district_id=district_id)
            self.resolve_open(identity.id, f"linked ({method})")
        return Linked(user.id, clever_user_id, changed, moved_from)

    def _lost_race(self, identity: LtiIdentityRow, clever_user_id: str) -> Refusal:
        """Another request linked the Clever id between our check and our write: refuse as if it had come first.

        Never a fold or a move here: the winner's user is seconds old and may be handed off right now.
        """
        refusal = self.check(identity, clever_user_id, REHOME_NEVER)
        if refusal is not None:
            return Refusal(refusal.kind, refusal.clever_user_ids, refusal.reason,
                           {**refusal.details, "concurrent": True})
        return Refusal("different_users", (clever_user_id,),
                       "another request linked the Clever id at the same moment; merging needs an administrator",
                       {"lti_gateway_user_id": identity.user_id, "concurrent": True})

    # -- unlink ---------------------------------------------------------------------------------------------

    def unlink(self, identity: LtiIdentityRow, *, reason: str) -> tuple[str, str]:
        """Separate the identity from its Clever id; returns (removed Clever id, the identity's user now).

        A user with other LTI identities keeps the Clever id and the unlinked identity moves to a new user of
        its own; a user with only this identity keeps the identity and loses the Clever id.
        """
        user = self.people.user(identity.user_id)
        assert user is not None and user.clever_user_id is not None
        removed = user.clever_user_id
        others = [i for i in self.people.identities_of(user.id) if i.id != identity.id]
        if others:
            fresh = UserRepository(self._s).create()
            self.people.move_identity(identity, fresh.id)
            user_id = fresh.id
        else:
            user.clever_user_id = None
            self._s.flush()
            user_id = user.id
        self.matches.upsert(identity.id, identity.registration_id, status="unlinked", method=None,
                            clever_user_id=None, matched_at=None, blocked_clever_user_id=removed)
        self.audit.record(self.actor, "identity.unlink", target(identity.id), reason=reason,
                          clever_user_id=removed, user_id=user_id, previous_user_id=user.id,
                          registration_id=identity.registration_id)
        return removed, user_id

    # -- conflicts ------------------------------------------------------------------------------------------

    def conflict(self, identity: LtiIdentityRow, *, kind: str, method: str | None, clever_user_ids: tuple[str, ...],
                 reason: str, district_id: str | None, details: dict[str, Any] | None = None) -> IdentityConflictRow:
        """Record a conflict; one open conflict per (identity, kind), counted on repeats."""
        now = utcnow()
        for row in self.conflicts.open_for(identity.id, kind):
            row.count += 1
            row.last_seen_at = now
            row.clever_user_ids = list(clever_user_ids)
            row.details = {**(details or {}), "reason": reason}
            return row
        row = IdentityConflictRow(
            id=new_id("icf"), kind=kind, status="open", lti_identity_id=identity.id,
            registration_id=identity.registration_id, district_id=district_id, method=method,
            clever_user_ids=list(clever_user_ids), details={**(details or {}), "reason": reason}, count=1,
            created_at=now, last_seen_at=now,
        )
        self.conflicts.add(row)
        self.audit.record(self.actor, "identity.conflict", target(identity.id), conflict_id=row.id, kind=kind,
                          method=method, clever_user_ids=list(clever_user_ids), reason=reason, district_id=district_id)
        return row

    def resolve_open(self, identity_id: str, resolution: str) -> int:
        # A launch that claimed (or a link that pointed at) a Clever user of another district stays open for an
        # administrator: a later match at home does not explain why the LMS named a stranger.
        rows = [r for r in self.conflicts.open_for(identity_id) if r.kind not in KEEP_OPEN]
        for row in rows:
            self.resolve(row, resolution)
        return len(rows)

    def resolve(self, row: IdentityConflictRow, resolution: str) -> None:
        row.status = "resolved"
        row.resolved_at = utcnow()
        row.resolved_by = self.actor
        row.resolution = resolution
        self.audit.record(self.actor, "identity.conflict.resolve", target(row.lti_identity_id), conflict_id=row.id,
                          kind=row.kind, reason=resolution)
