"""What an administrator does (admin API and CLI): read a user's identities, link, unlink, review conflicts and
unmatched identities, link deployments to districts, set matching rules. Each takes the caller's session, so the
API's Idempotency-Key and the change commit together; each change is audited with its actor and reason."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

import gateway.identity.errors as errors
from gateway.api.cursor import Cursor, Page
from gateway.identity.links import REHOME_ADMIN, Links, Refusal
from gateway.identity.rules import MatchRules, parse_changes
from gateway.store.models.base import iso
from gateway.store.models.identity import IdentityConflictRow, IdentityMatchRow
from gateway.store.models.lti import LtiDeploymentRow, LtiIdentityRow
from gateway.store.repositories.audit import AuditRepository
from gateway.store.repositories.identity import IdentityConflictRepository, IdentityMatchRepository
from gateway.store.repositories.identity_people import IdentityPeopleRepository

UNMATCHED_STATUSES = ("unmatched", "conflict", "unlinked")
CONFLICT_STATUSES = ("open", "resolved")


CONFLICTS = Cursor("identity.conflicts")
LTI11 = Cursor("identity.lti11")
UNMATCHED = Cursor("identity.unmatched")
DEPLOYMENTS = Cursor("identity.deployments")


def _after(cursor: Cursor, token: str | None) -> str | None:
    key = cursor.decode(token)
    return None if key is None else str(key[0])


def match_view(row: IdentityMatchRow | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "status": row.status, "method": row.method, "clever_user_id": row.clever_user_id,
        "district_id": row.district_id, "deployment": row.deployment_ref,
        "blocked_clever_user_id": row.blocked_clever_user_id, "matched_at": iso(row.matched_at),
        "updated_at": iso(row.updated_at),
    }


def lti1p1_view(row: LtiIdentityRow) -> dict[str, str] | None:
    """The identity's LTI 1.1 identity (from a verified migration claim), or None."""
    if row.lti11_consumer_key is None or row.lti11_user_id is None:
        return None
    return {"oauth_consumer_key": row.lti11_consumer_key, "user_id": row.lti11_user_id}


def conflict_view(row: IdentityConflictRow, user_id: str | None) -> dict[str, Any]:
    return {
        "id": row.id, "kind": row.kind, "status": row.status, "lti_identity_id": row.lti_identity_id,
        "user_id": user_id, "registration": row.registration_id, "district_id": row.district_id,
        "method": row.method, "clever_user_ids": list(row.clever_user_ids), "reason": row.details.get("reason"),
        "details": {k: v for k, v in row.details.items() if k != "reason"}, "count": row.count,
        "created_at": iso(row.created_at), "last_seen_at": iso(row.last_seen_at),
        "resolved_at": iso(row.resolved_at), "resolved_by": row.resolved_by, "resolution": row.resolution,
    }


def deployment_view(row: LtiDeploymentRow) -> dict[str, Any]:
    return {"id": row.id, "registration": row.registration_id, "deployment_id": row.deployment_id,
            "status": row.status, "clever_district_id": row.clever_district_id}


def require_reason(reason: object) -> str:
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
        raise errors.IdentityReasonRequired()
    return reason.strip()


class IdentityAdmin:
    """Administration over the caller's session. ``actor`` names who acts in the audit log."""

    # -- read -------------------------------------------------------------------------------------------------

    def user_view(self, s: Session, user_id: str) -> dict[str, Any]:
        people = IdentityPeopleRepository(s)
        user = people.user(user_id)
        if user is None:
            raise errors.IdentityNotFound(f"No gateway user {user_id[:60]!r}.")
        identities = people.identities_of(user.id)
        ids = [i.id for i in identities]
        matches = IdentityMatchRepository(s).of_identities(ids)
        registrations = people.registration_names(sorted({i.registration_id for i in identities}))
        conflicts = IdentityConflictRepository(s).of_identities(ids)
        return {
            "user_id": user.id,
            "clever_user_id": user.clever_user_id,
            "clever_district_id": people.roster_district_of(user.clever_user_id) if user.clever_user_id else None,
            "created_at": iso(user.created_at),
            "lti_identities": [
                {
                    "id": i.id, "registration": i.registration_id,
                    "issuer": registrations[i.registration_id].issuer if i.registration_id in registrations else None,
                    "sub": i.sub, "created_at": iso(i.created_at), "last_launch_at": iso(i.last_launch_at),
                    "lti1p1": lti1p1_view(i), "match": match_view(matches.get(i.id)),
                }
                for i in identities
            ],
            "open_conflicts": [conflict_view(c, user.id) for c in conflicts],
        }

    def resolve_ref(self, s: Session, ref: str) -> str:
        """A user id from a user id (``usr_``) or an LTI identity id (``lid_``)."""
        people = IdentityPeopleRepository(s)
        identity = people.identity(ref) if ref.startswith("lid_") else None
        return identity.user_id if identity is not None else ref

    def lti11_identities(self, s: Session, consumer_key: str, user_id: str | None, cursor: str | None,
                         limit: int) -> Page:
        """The LTI identities (and their gateway users) that verified migration claims named with this LTI 1.1
        consumer key (and 1.1 user id): how a vendor finds who its 1.1 users are now."""
        rows = IdentityPeopleRepository(s).with_lti11(consumer_key, user_id, after=_after(LTI11, cursor),
                                                      limit=limit + 1)
        views = [
            {"id": i.id, "user_id": i.user_id, "registration": i.registration_id, "sub": i.sub,
             "lti1p1": lti1p1_view(i), "created_at": iso(i.created_at), "last_launch_at": iso(i.last_launch_at)}
            for i in rows[:limit]
        ]
        return Page(views, LTI11.encode(rows[limit - 1].id) if len(rows) > limit else None)

    def conflicts(self, s: Session, status: str | None, cursor: str | None, limit: int) -> Page:
        rows = IdentityConflictRepository(s).page(status, after=_after(CONFLICTS, cursor), limit=limit + 1)
        owners = IdentityPeopleRepository(s).owners([r.lti_identity_id for r in rows[:limit]])
        views = [conflict_view(r, owners.get(r.lti_identity_id)) for r in rows[:limit]]
        return Page(views, CONFLICTS.encode(rows[limit - 1].id) if len(rows) > limit else None)

    def unmatched(self, s: Session, statuses: Sequence[str], *, district_id: str | None,
                  registration_id: str | None, cursor: str | None, limit: int) -> Page:
        pairs = IdentityMatchRepository(s).page(statuses, district_id=district_id, registration_id=registration_id,
                                                after=_after(UNMATCHED, cursor), limit=limit + 1)
        views = [
            {"lti_identity_id": i.id, "user_id": i.user_id, "registration": i.registration_id, "sub": i.sub,
             "status": m.status, "district_id": m.district_id, "deployment": m.deployment_ref,
             "updated_at": iso(m.updated_at), "last_launch_at": iso(i.last_launch_at)}
            for m, i in pairs[:limit]
        ]
        return Page(views, UNMATCHED.encode(pairs[limit - 1][1].id) if len(pairs) > limit else None)

    def deployments(self, s: Session, cursor: str | None, limit: int) -> Page:
        rows = IdentityPeopleRepository(s).deployments(after=_after(DEPLOYMENTS, cursor), limit=limit + 1)
        views = [deployment_view(r) for r in rows[:limit]]
        return Page(views, DEPLOYMENTS.encode(views[-1]["id"]) if len(rows) > limit else None)

    # -- change -----------------------------------------------------------------------------------------------

    def _identity(self, s: Session, lti_identity_id: str) -> LtiIdentityRow:
        identity = IdentityPeopleRepository(s).identity(lti_identity_id)
        if identity is None:
            raise errors.IdentityNotFound(f"No LTI identity {lti_identity_id[:60]!r}.")
        return identity

    def link(self, s: Session, lti_identity_id: str, clever_user_id: str, *, reason: str,
             actor: str) -> dict[str, Any]:
        identity = self._identity(s, lti_identity_id)
        links = Links(s, actor)
        match = links.matches.get(identity.id)
        district = match.district_id if match is not None else None
        home = links.people.roster_district_of(clever_user_id)
        if district is not None and home is not None and home != district:
            raise errors.IdentityDistrictMismatch(
                f"The Clever user is in the roster of district {home}; the identity launches from district {district}.")
        outcome = links.link(identity, clever_user_id, method="manual", reason=reason, rehome=REHOME_ADMIN,
                             district_id=district or home)
        if isinstance(outcome, Refusal):
            error = {"already_linked": errors.IdentityAlreadyLinked,
                     "linked_elsewhere": errors.IdentityCleverIdLinkedElsewhere}.get(outcome.kind,
                                                                                    errors.IdentityMergeRequired)
            raise error(outcome.reason[:1].upper() + outcome.reason[1:] + ".", extra={"conflict_kind": outcome.kind})
        return self.user_view(s, outcome.user_id)

    def unlink(self, s: Session, lti_identity_id: str, *, reason: str, actor: str) -> dict[str, Any]:
        identity = self._identity(s, lti_identity_id)
        user = IdentityPeopleRepository(s).user(identity.user_id)
        if user is None or user.clever_user_id is None:
            raise errors.IdentityNotLinked()
        _, user_id = Links(s, actor).unlink(identity, reason=reason)
        return self.user_view(s, user_id)

    def resolve_conflict(self, s: Session, conflict_id: str, *, reason: str, actor: str) -> dict[str, Any]:
        row = IdentityConflictRepository(s).get(conflict_id)
        if row is None:
            raise errors.IdentityConflictNotFound()
        if row.status == "open":
            Links(s, actor).resolve(row, reason)
            match = IdentityMatchRepository(s).get(row.lti_identity_id)
            if match is not None and match.status == "conflict" and not IdentityConflictRepository(s).open_for(
                    row.lti_identity_id):
                match.status = "unmatched"
        owner = IdentityPeopleRepository(s).identity(row.lti_identity_id)
        return conflict_view(row, owner.user_id if owner is not None else None)

    def set_deployment_district(self, s: Session, deployment_ref: str, district_id: str | None, *, reason: str,
                                actor: str) -> dict[str, Any]:
        people = IdentityPeopleRepository(s)
        row = people.deployment(deployment_ref)
        if row is None:
            raise errors.IdentityDeploymentNotFound()
        if district_id is not None and people.district(district_id) is None:
            raise errors.IdentityDistrictUnknown()
        previous = row.clever_district_id
        if previous != district_id:
            people.set_deployment_district(row, district_id)
            AuditRepository(s).record(actor, "identity.deployment.district", f"lti_deployment:{row.id}",
                                      district_id=district_id, previous_district_id=previous, reason=reason)
        return deployment_view(row)

    def rules(self, s: Session, registration_id: str) -> dict[str, Any]:
        row = IdentityPeopleRepository(s).registration(registration_id)
        if row is None:
            raise errors.IdentityRegistrationNotFound()
        return {"registration": row.id, **MatchRules.from_options(row.options or {}, row.issuer).as_dict()}

    def set_rules(self, s: Session, registration_id: str, raw: Mapping[str, Any], *, actor: str) -> dict[str, Any]:
        people = IdentityPeopleRepository(s)
        row = people.registration(registration_id)
        if row is None:
            raise errors.IdentityRegistrationNotFound()
        changes = parse_changes(raw)
        people.update_registration_options(row, changes)
        AuditRepository(s).record(actor, "identity.rules", f"lti_registration:{row.id}", changes=changes)
        return self.rules(s, registration_id)

