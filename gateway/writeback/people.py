"""Who a grade is for: the vendor names a person, the gateway finds them in the context (or refuses).

A user reference is a gateway user id (``usr_...``) or a Clever user id (bare, or ``clever:<id>``). In an
LTI course the person must have launched there or been listed by the course roster (``lti_context_members``;
gateway.writeback.roster) and the platform's ``sub`` is what AGS takes; in a Clever section they must be one of
the synced section's students (a teacher is refused) and matched to the LMS (``lms_status.synced_in_lms``), and
their Clever id is what LMS Connect takes. References are resolved in bulk, so a batch of 1,000 grades costs a
handful of queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from gateway.errors import GatewayError
from gateway.store.repositories.assignments_contexts import WritebackLookup
from gateway.writeback.contexts import ResolvedContext
from gateway.writeback.refusals import UserNotInContext, UserNotStudent, UserNotSyncedInLms

CLEVER_REF = "clever:"
GATEWAY_REF = "usr_"


@dataclass(frozen=True)
class Person:
    """A resolved grade recipient: ``subject`` keys its grades; ``sub`` is its LTI id (AGS only)."""

    ref: str
    subject: str
    sub: str | None
    warnings: tuple[dict[str, str], ...] = ()


def _clever_id(ref: str) -> str:
    return ref.removeprefix(CLEVER_REF)


class People:
    def __init__(self, session: Session, context: ResolvedContext) -> None:
        self._s = session
        self._context = context
        self._lookup = WritebackLookup(session)

    def resolve(self, refs: Sequence[str]) -> dict[str, Person | GatewayError]:
        """Each reference's person, or the refusal that applies to it."""
        wanted = list(dict.fromkeys(refs))
        if self._context.kind == "lti":
            return self._lti(wanted)
        return self._clever(wanted)

    def _lti(self, refs: Sequence[str]) -> dict[str, Person | GatewayError]:
        context_ref, registration = self._context.lti_context_ref, self._context.registration_id
        assert context_ref is not None and registration is not None
        found = self._lookup.course_people(context_ref, registration, [r for r in refs if r.startswith(GATEWAY_REF)],
                                           [_clever_id(r) for r in refs if not r.startswith(GATEWAY_REF)])
        by_id = {person.user_id: person for person in found}  # the most recent ``sub`` last, so it wins
        by_clever = {person.clever_user_id: person for person in found if person.clever_user_id}
        out: dict[str, Person | GatewayError] = {}
        for ref in refs:
            person = by_id.get(ref) if ref.startswith(GATEWAY_REF) else by_clever.get(_clever_id(ref))
            if person is None:
                out[ref] = UserNotInContext(f"No gateway user is known as {ref[:80]!r}.")
            elif not person.member or person.sub is None:
                out[ref] = UserNotInContext(f"{ref[:80]} has not launched the tool in this course, nor did the "
                                            "course roster list them (GET .../members reads it).")
            elif person.roster_status == "Deleted":
                out[ref] = UserNotInContext(f"The LMS's course roster says {ref[:80]} left this course.")
            else:
                warnings = () if person.learner else (
                    {"code": "USER_NOT_LEARNER", "message": "The user's launches here carried no learner role; "
                     "the LMS may refuse a score for them."},)
                out[ref] = Person(ref, person.user_id, person.sub, warnings)
        return out

    def _clever(self, refs: Sequence[str]) -> dict[str, Person | GatewayError]:
        section = self._context.section_id
        assert section is not None
        clever_of = dict(self._lookup.user_clever_ids([r for r in refs if r.startswith(GATEWAY_REF)], []))
        ids = {ref: (clever_of.get(ref) or "" if ref.startswith(GATEWAY_REF) else _clever_id(ref)) for ref in refs}
        known = [i for i in ids.values() if i]
        roles = self._lookup.clever_section_roles(section, known)
        roster = self._lookup.clever_roster_status(known)
        out: dict[str, Person | GatewayError] = {}
        for ref in refs:
            clever_id = ids[ref]
            student = roster.get(clever_id)
            if not clever_id:
                out[ref] = UserNotInContext(f"{ref[:80]} has no Clever identity.")
            elif clever_id not in roles or student is None or student.archived:
                out[ref] = UserNotInContext(f"{ref[:80]} is not in this section's synced roster.")
            elif "student" not in roles[clever_id]:
                # A teacher's "submission" is no grade: Clever would PATCH …/submissions/<teacher id>.
                out[ref] = UserNotStudent(f"{ref[:80]} is not a student of this section.")
            elif student.lms_synced is not True:
                out[ref] = UserNotSyncedInLms(f"Clever has not matched {ref[:80]} to the LMS.")
            else:
                out[ref] = Person(ref, clever_id, None)
        return out
