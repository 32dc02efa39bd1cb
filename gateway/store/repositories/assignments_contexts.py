"""What writeback reads about a context and its people: LTI courses, links and identities; Clever sections.

Reads only; these tables belong to the LTI and Clever features, which write them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
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

    def subs(self, registration_id: str, user_ids: Sequence[str]) -> dict[str, str]:
        """The LTI ``sub`` of each gateway user on a platform (the most recently launched, if several)."""
        if not user_ids:
            return {}
        rows = self._s.scalars(
            select(LtiIdentityRow)
            .where(LtiIdentityRow.registration_id == registration_id, LtiIdentityRow.user_id.in_(list(user_ids)))
            .order_by(LtiIdentityRow.last_launch_at)
        )
        return {row.user_id: row.sub for row in rows}

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

    def users(self, user_ids: Sequence[str]) -> dict[str, UserRow]:
        if not user_ids:
            return {}
        rows = self._s.scalars(select(UserRow).where(UserRow.id.in_(list(user_ids))))
        return {row.id: row for row in rows}

    def users_by_clever_id(self, clever_ids: Sequence[str]) -> dict[str, UserRow]:
        if not clever_ids:
            return {}
        rows = self._s.scalars(select(UserRow).where(UserRow.clever_user_id.in_(list(clever_ids))))
        return {str(row.clever_user_id): row for row in rows}

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
        rows = self._s.scalars(
            select(CleverSectionMemberRow).where(
                CleverSectionMemberRow.section_id == section_id, CleverSectionMemberRow.user_id.in_(list(clever_ids))
            )
        )
        for row in rows:
            found.setdefault(row.user_id, set()).add(row.role)
        return found

    def clever_roster_users(self, clever_ids: Sequence[str]) -> dict[str, CleverRosterUserRow]:
        if not clever_ids:
            return {}
        rows = self._s.scalars(select(CleverRosterUserRow).where(CleverRosterUserRow.id.in_(list(clever_ids))))
        return {row.id: row for row in rows}
