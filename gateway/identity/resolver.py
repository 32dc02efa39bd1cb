"""The matching strategies, in order, over plain values and a roster lookup. No Flask, no session here.

:func:`resolve` stops at the first strategy that gives exactly one candidate:

1. ``existing``: the launch user's gateway user already has a Clever id, unless the roster places that Clever
   user in another district than the deployment's (an ``other_district`` conflict, and the id is not handed off).
2. ``launch_claim``: the launch names a Clever id (a custom parameter, or ``sub`` on Clever-brokered launches)
   and the linked district's roster holds that user. A Clever id of another district is a conflict.
3. ``sis_id``: the LIS ``person_sourcedid`` (or a configured custom parameter) is held by one user of the
   linked district's roster. SIS ids repeat across districts (Clever's Users docs), so only the linked
   district is searched; a teacher and a student sharing the id are told apart by the launch's role.
4. ``email``: only where the registration allows it, and only when the roster holds the address exactly once
   (Clever does not verify emails: https://dev.clever.com/docs/users).

Two or more candidates stop the search with a conflict and no link. Library users (no district) are in no
roster, so only an existing link or a Clever login reaches them. A Clever id an administrator unlinked from
this identity (``blocked_clever_user_id``) is never matched again automatically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from gateway.identity.rules import MatchRules

METHODS = ("existing", "launch_claim", "sis_id", "email", "clever_login", "manual")
UNMATCHED = "unmatched"
RESULTS = (*METHODS, UNMATCHED)
CONFLICT_KINDS = ("ambiguous", "other_district", "linked_elsewhere", "different_users", "already_linked")
# Canvas sends an unexpanded variable (``$Canvas.user.sisIntegrationId``) when it has no value.
_UNEXPANDED = "$"


class Roster(Protocol):
    """The synced Clever roster, read locally (no outbound HTTP on the launch path)."""

    def district_of(self, clever_user_id: str) -> str | None: ...

    def sis_holders(self, district_id: str, sis_id: str) -> list[tuple[str, str]]: ...

    def with_email(self, district_id: str, email: str) -> list[str]: ...


@dataclass(frozen=True)
class LaunchFacts:
    """What matching needs from one launch, as plain values."""

    district_id: str | None  # the Clever district the launch's deployment is linked to
    linked_clever_user_id: str | None = None  # the gateway user's Clever id, if any
    blocked_clever_user_id: str | None = None
    clever_id_claim: str | None = None
    sis_id: str | None = None
    email: str | None = None
    learner: bool = False
    instructor: bool = False


@dataclass(frozen=True)
class Conflict:
    kind: str
    method: str
    clever_user_ids: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class Resolution:
    result: str  # one of RESULTS
    clever_user_id: str | None
    reason: str
    conflicts: tuple[Conflict, ...] = ()
    tried: tuple[str, ...] = field(default=())


def clean(value: object, limit: int = 255) -> str | None:
    """A usable identifier from a claim: a non-empty string that is not an unexpanded LMS variable."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or value.startswith(_UNEXPANDED) or len(value) > limit:
        return None
    return value


def _narrow_by_role(holders: list[tuple[str, str]], facts: LaunchFacts) -> list[str]:
    """Distinct holders; when several, keep those holding the SIS id in the role the launch says the person has."""
    ids = list(dict.fromkeys(user_id for user_id, _ in holders))
    if len(ids) < 2 or facts.learner == facts.instructor:
        return ids
    wanted = {"student"} if facts.learner else {"teacher", "staff", "district_admin"}
    narrowed = list(dict.fromkeys(user_id for user_id, role in holders if role in wanted))
    return narrowed if len(narrowed) == 1 else ids


def resolve(facts: LaunchFacts, rules: MatchRules, roster: Roster) -> Resolution:
    district = facts.district_id
    linked = facts.linked_clever_user_id
    if linked:
        # The link may come from another deployment (or from before the deployment was relinked): never hand a
        # district's Clever id to a deployment of another district. Library users are in no roster and pass.
        home = roster.district_of(linked) if district is not None else None
        if home is not None and home != district:
            return Resolution(UNMATCHED, None, "the linked Clever user is of another district", (
                Conflict("other_district", "existing", (linked,),
                         "the gateway user is linked to a Clever user of another district"),), ("existing",))
        return Resolution("existing", linked, "the gateway user is linked to this Clever id")
    if district is None:
        return Resolution(UNMATCHED, None, "the deployment is not linked to a Clever district")
    conflicts: list[Conflict] = []
    tried: list[str] = []

    def found(method: str, ids: list[str]) -> Resolution | None:
        if len(ids) >= 2:
            conflicts.append(Conflict("ambiguous", method, tuple(ids),
                                      f"{len(ids)} users of the roster of district {district} fit the {method}"))
            return Resolution(UNMATCHED, None, f"the {method} is ambiguous", tuple(conflicts), tuple(tried))
        if len(ids) == 1 and ids[0] != facts.blocked_clever_user_id:
            return Resolution(method, ids[0], f"the {method} fits one user of the roster of district {district}",
                              tuple(conflicts), tuple(tried))
        return None

    claim = clean(facts.clever_id_claim, 64)
    if claim:
        tried.append("launch_claim")
        home = roster.district_of(claim)
        if home is not None and home != district:
            conflicts.append(Conflict("other_district", "launch_claim", (claim,),
                                      "the launch names a Clever user of another district"))
        elif home == district:
            hit = found("launch_claim", [claim])
            if hit:
                return hit
    sis_id = clean(facts.sis_id, 200) if rules.sis_id_matching else None
    if sis_id:
        tried.append("sis_id")
        hit = found("sis_id", _narrow_by_role(roster.sis_holders(district, sis_id), facts))
        if hit:
            return hit
    email = clean(facts.email, 320) if rules.email_matching else None
    if email:
        tried.append("email")
        hit = found("email", roster.with_email(district, email))
        if hit:
            return hit
    return Resolution(UNMATCHED, None, "no strategy found exactly one candidate", tuple(conflicts), tuple(tried))
