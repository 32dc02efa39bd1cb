"""What writeback reads about a context and its people: LTI courses, links and identities; Clever sections.

Reads only; these tables belong to the LTI and Clever features, which write them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from gateway.store.models.clever import (
    CleverDistrictRow,
    CleverRosterUserRow,
    CleverSectionMemberRow,
    CleverSectionRow,
)
from gateway.store.models.core import UserRow
from gateway.store.models.identity import IdentityMatchRow
from gateway.store.models.lti import (
    LtiContextRow,
    LtiDeploymentRow,
    LtiIdentityRow,
    LtiRegistrationRow,
    LtiResourceLinkRow,
)
from gateway.store.models.writeback_assignments import LtiContextMemberRow


@dataclass(frozen=True)
class CoursePerson:
    """A gateway user as an LTI course sees them: ``member`` once they launched there or its roster listed them
    (``roster_status``: the roster's Active/Inactive/Deleted); ``sub`` on its platform."""

    user_id: str
    clever_user_id: str | None
    member: bool
    learner: bool
    sub: str | None
    roster_status: str | None = None


@dataclass(frozen=True)
class RosterStatus:
    """What grading needs of a Clever roster user."""

    archived: bool
    lms_synced: bool | None


def _users_named(user_ids: Sequence[str], clever_ids: Sequence[str]) -> ColumnElement[bool]:
    terms: list[ColumnElement[bool]] = []
    if user_ids:
        terms.append(UserRow.id.in_(list(user_ids)))
    if clever_ids:
        terms.append(UserRow.clever_user_id.in_(list(clever_ids)))
    return or_(*terms)


class WritebackLookup:
    def __init__(self, session: Session) -> None:
        self._s = session

    # -- LTI ----------------------------------------------------------------------------------------

    def lti_context(self, context_ref: str) -> LtiContextRow | None:
        return self._s.get(LtiContextRow, context_ref)

    def registration(self, registration_id: str) -> LtiRegistrationRow | None:
        return self._s.get(LtiRegistrationRow, registration_id)

    def deployment(self, deployment_ref: str) -> LtiDeploymentRow | None:
        return self._s.get(LtiDeploymentRow, deployment_ref)

    def resource_link(self, link_ref: str) -> LtiResourceLinkRow | None:
        return self._s.get(LtiResourceLinkRow, link_ref)

    def coupled_links(self, context_ref: str) -> int:
        """Placements in the course that have their own line item (coupled grading)."""
        rows = self._s.scalars(
            select(LtiResourceLinkRow.id).where(
                LtiResourceLinkRow.context_ref == context_ref, LtiResourceLinkRow.ags_lineitem_url.is_not(None)
            )
        ).all()
        return len(rows)

    def course_people(self, context_ref: str, registration_id: str, user_ids: Sequence[str],
                      clever_ids: Sequence[str]) -> list[CoursePerson]:
        """Users named by gateway id or Clever id, with their membership in the course and their platform ``sub``.

        One statement for a whole batch of grades, read as plain values (no ORM objects): users, memberships
        and identities joined. A user with several ``sub`` on the platform appears once per ``sub``, the most
        recently launched last.
        """
        if not user_ids and not clever_ids:
            return []
        rows: Any = self._s.execute(
            select(UserRow.id, UserRow.clever_user_id, LtiContextMemberRow.user_id, LtiContextMemberRow.learner,
                   LtiIdentityRow.sub, LtiContextMemberRow.nrps_status)
            .outerjoin(LtiContextMemberRow, and_(LtiContextMemberRow.user_id == UserRow.id,
                                                 LtiContextMemberRow.context_ref == context_ref))
            .outerjoin(LtiIdentityRow, and_(LtiIdentityRow.user_id == UserRow.id,
                                            LtiIdentityRow.registration_id == registration_id))
            .where(_users_named(user_ids, clever_ids))
            .order_by(LtiIdentityRow.last_launch_at)
        )
        return [CoursePerson(user_id, clever_id, member is not None, bool(learner), sub, roster_status)
                for user_id, clever_id, member, learner, sub, roster_status in rows]

    def roster_people(self, registration_id: str, user_ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        """Each gateway user's LTI ``sub`` on a platform and its identity match status (None: never matched)."""
        if not user_ids:
            return {}
        rows = self._s.execute(
            select(LtiIdentityRow.user_id, LtiIdentityRow.sub, IdentityMatchRow.status)
            .outerjoin(IdentityMatchRow, IdentityMatchRow.lti_identity_id == LtiIdentityRow.id)
            .where(LtiIdentityRow.registration_id == registration_id, LtiIdentityRow.user_id.in_(list(user_ids)))
            .order_by(LtiIdentityRow.last_launch_at)
        )
        return {user_id: (sub, status) for user_id, sub, status in rows}

    # -- users --------------------------------------------------------------------------------------

    def user_clever_ids(self, user_ids: Sequence[str], clever_ids: Sequence[str]) -> list[tuple[str, str | None]]:
        """(gateway user id, Clever id) of each user named by either, in one statement."""
        if not user_ids and not clever_ids:
            return []
        rows: Any = self._s.execute(select(UserRow.id, UserRow.clever_user_id).where(_users_named(user_ids,
                                                                                                   clever_ids)))
        return [(str(user_id), clever_id) for user_id, clever_id in rows]

    # -- Clever -------------------------------------------------------------------------------------

    def clever_section(self, section_id: str) -> CleverSectionRow | None:
        return self._s.get(CleverSectionRow, section_id)

    def clever_district(self, district_id: str) -> CleverDistrictRow | None:
        return self._s.get(CleverDistrictRow, district_id)

    def clever_section_roles(self, section_id: str, clever_ids: Sequence[str]) -> dict[str, set[str]]:
        """Each given person's roles in the section (absent: not a member)."""
        if not clever_ids:
            return {}
        found: dict[str, set[str]] = {}
        rows: Any = self._s.execute(
            select(CleverSectionMemberRow.user_id, CleverSectionMemberRow.role).where(
                CleverSectionMemberRow.section_id == section_id, CleverSectionMemberRow.user_id.in_(list(clever_ids))
            )
        )
        for user_id, role in rows:
            found.setdefault(user_id, set()).add(role)
        return found

    def clever_roster_status(self, clever_ids: Sequence[str]) -> dict[str, RosterStatus]:
        """Archived? matched in the LMS? for each roster user found (plain values, for a batch of grades)."""
        if not clever_ids:
            return {}
        rows: Any = self._s.execute(
            select(CleverRosterUserRow.id, CleverRosterUserRow.archived_at, CleverRosterUserRow.lms_synced)
            .where(CleverRosterUserRow.id.in_(list(clever_ids)))
        )
        return {user_id: RosterStatus(archived_at is not None, synced) for user_id, archived_at, synced in rows}

    def clever_roster_users(self, clever_ids: Sequence[str]) -> dict[str, CleverRosterUserRow]:
        if not clever_ids:
            return {}
        rows = self._s.scalars(select(CleverRosterUserRow).where(CleverRosterUserRow.id.in_(list(clever_ids))))
        return {row.id: row for row in rows}
