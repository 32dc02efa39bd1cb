"""Clever districts, their sync state, and the roster (schools, users, SIS ids, sections, membership)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from gateway.store.models.clever import (
    CleverDistrictRow,
    CleverRosterSisIdRow,
    CleverRosterUserRow,
    CleverSchoolRow,
    CleverSectionMemberRow,
    CleverSectionRow,
)
from gateway.store.models.core import UserRow

RosterRow = CleverSchoolRow | CleverRosterUserRow | CleverSectionRow
ROSTER_MODELS: dict[str, type[RosterRow]] = {
    "schools": CleverSchoolRow,
    "users": CleverRosterUserRow,
    "sections": CleverSectionRow,
}


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class CleverDistrictRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, district_id: str) -> CleverDistrictRow | None:
        return self._s.get(CleverDistrictRow, district_id)

    def add(self, row: CleverDistrictRow) -> None:
        self._s.add(row)
        self._s.flush()

    def page(self, after: str | None, limit: int) -> Sequence[CleverDistrictRow]:
        query = select(CleverDistrictRow).order_by(CleverDistrictRow.id).limit(limit)
        if after:
            query = query.where(CleverDistrictRow.id > after)
        return self._s.scalars(query).all()

    def with_status(self, status: str) -> Sequence[CleverDistrictRow]:
        return self._s.scalars(
            select(CleverDistrictRow).where(CleverDistrictRow.status == status).order_by(CleverDistrictRow.id)
        ).all()

    def due(self, now: dt.datetime, synced_before: dt.datetime, max_failures: int) -> list[str]:
        """Connected districts no worker holds that asked for a sync, whose promised retry (``sync_retry_at``) has
        come, or whose last one is old and that are not backing off after failures (nor past ``max_failures`` of
        them in a row). A retry runs at its ``sync_retry_at`` however recent the last success."""
        query = (
            select(CleverDistrictRow.id)
            .where(
                CleverDistrictRow.status == "connected",
                or_(CleverDistrictRow.sync_lease_until.is_(None), CleverDistrictRow.sync_lease_until < now),
                or_(
                    CleverDistrictRow.sync_requested_at.is_not(None),
                    and_(CleverDistrictRow.sync_retry_at.is_not(None), CleverDistrictRow.sync_retry_at <= now,
                         CleverDistrictRow.sync_failures < max_failures),
                    and_(
                        or_(CleverDistrictRow.synced_at.is_(None), CleverDistrictRow.synced_at < synced_before),
                        or_(CleverDistrictRow.sync_retry_at.is_(None), CleverDistrictRow.sync_retry_at <= now),
                        CleverDistrictRow.sync_failures < max_failures,
                    ),
                ),
            )
            .order_by(CleverDistrictRow.sync_requested_at.is_(None), CleverDistrictRow.id)
        )
        return list(self._s.scalars(query).all())

    def claim(self, district_id: str, run_id: str, now: dt.datetime, lease_until: dt.datetime) -> bool:
        """Take the district's sync lease; False if another worker holds it or the district is gone."""
        result = self._s.execute(
            update(CleverDistrictRow)
            .where(
                CleverDistrictRow.id == district_id,
                CleverDistrictRow.status == "connected",
                or_(CleverDistrictRow.sync_lease_until.is_(None), CleverDistrictRow.sync_lease_until < now),
            )
            .values(sync_run_id=run_id, sync_lease_until=lease_until, sync_status="running", updated_at=now)
        )
        return _rowcount(result) == 1

    def heartbeat(self, district_id: str, run_id: str, progress: dict[str, Any], lease_until: dt.datetime) -> None:
        self._s.execute(
            update(CleverDistrictRow)
            .where(CleverDistrictRow.id == district_id, CleverDistrictRow.sync_run_id == run_id)
            .values(sync_progress=progress, sync_lease_until=lease_until)
        )


class CleverRosterRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    # -- writes (sync) ----------------------------------------------------------------------------------

    def upsert(self, model: type[RosterRow], record_id: str, values: dict[str, Any]) -> RosterRow:
        """Insert or update one row; seeing it again restores it if it was archived."""
        row = cast(RosterRow | None, self._s.get(model, record_id))
        values = {**values, "archived_at": None}
        if row is None:
            row = model(id=record_id, **values)
            self._s.add(row)
        else:
            for key, value in values.items():
                setattr(row, key, value)
        self._s.flush()
        return row

    def set_sis_ids(self, user_id: str, district_id: str, sis_ids: dict[str, str]) -> None:
        self._s.execute(delete(CleverRosterSisIdRow).where(CleverRosterSisIdRow.user_id == user_id))
        for role, sis_id in sis_ids.items():
            self._s.add(CleverRosterSisIdRow(user_id=user_id, role=role, district_id=district_id, sis_id=sis_id))

    def set_members(self, section_id: str, members: Iterable[tuple[str, str]]) -> None:
        self._s.execute(delete(CleverSectionMemberRow).where(CleverSectionMemberRow.section_id == section_id))
        for user_id, role in dict.fromkeys(members):
            self._s.add(CleverSectionMemberRow(section_id=section_id, user_id=user_id, role=role))

    def archive(self, model: type[RosterRow], record_id: str, now: dt.datetime) -> bool:
        result = self._s.execute(
            update(model).where(model.id == record_id, model.archived_at.is_(None)).values(archived_at=now)
        )
        return _rowcount(result) == 1

    def archive_unseen(self, model: type[RosterRow], district_id: str, run_id: str, now: dt.datetime) -> int:
        """After a full sync: whatever Clever no longer lists is archived (deleted or unshared)."""
        result = self._s.execute(
            update(model)
            .where(
                model.district_id == district_id,
                model.archived_at.is_(None),
                or_(model.seen_run_id.is_(None), model.seen_run_id != run_id),
            )
            .values(archived_at=now)
        )
        return _rowcount(result)

    def archive_district(self, district_id: str, now: dt.datetime) -> None:
        for model in ROSTER_MODELS.values():
            self._s.execute(
                update(model)
                .where(model.district_id == district_id, model.archived_at.is_(None))
                .values(archived_at=now)
            )

    # -- reads (roster API, matching) ---------------------------------------------------------------

    def section(self, section_id: str) -> CleverSectionRow | None:
        return self._s.get(CleverSectionRow, section_id)

    def user(self, user_id: str) -> CleverRosterUserRow | None:
        return self._s.get(CleverRosterUserRow, user_id)

    def sections(self, district_id: str, after: str | None, limit: int,
                 include_archived: bool) -> Sequence[CleverSectionRow]:
        query = (select(CleverSectionRow).where(CleverSectionRow.district_id == district_id)
                 .order_by(CleverSectionRow.id).limit(limit))
        if after:
            query = query.where(CleverSectionRow.id > after)
        if not include_archived:
            query = query.where(CleverSectionRow.archived_at.is_(None))
        return self._s.scalars(query).all()

    def members(self, section_id: str) -> Sequence[CleverSectionMemberRow]:
        return self._s.scalars(
            select(CleverSectionMemberRow)
            .where(CleverSectionMemberRow.section_id == section_id)
            .order_by(CleverSectionMemberRow.user_id, CleverSectionMemberRow.role)
        ).all()

    def section_users(self, section_id: str, role: str | None, after: tuple[str, str] | None, limit: int,
                      include_archived: bool) -> Sequence[tuple[CleverRosterUserRow, str]]:
        """Members with their role in the section, paged by (user id, role): a person may hold both roles."""
        query = (
            select(CleverRosterUserRow, CleverSectionMemberRow.role)
            .join(CleverSectionMemberRow, CleverSectionMemberRow.user_id == CleverRosterUserRow.id)
            .where(CleverSectionMemberRow.section_id == section_id)
            .order_by(CleverRosterUserRow.id, CleverSectionMemberRow.role)
            .limit(limit)
        )
        if role:
            query = query.where(CleverSectionMemberRow.role == role)
        if after:
            query = query.where(or_(
                CleverRosterUserRow.id > after[0],
                (CleverRosterUserRow.id == after[0]) & (CleverSectionMemberRow.role > after[1]),
            ))
        if not include_archived:
            query = query.where(CleverRosterUserRow.archived_at.is_(None))
        return [(row, member_role) for row, member_role in self._s.execute(query).all()]

    def sis_ids(self, user_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {uid: {} for uid in user_ids}
        if not user_ids:
            return found
        rows = self._s.scalars(select(CleverRosterSisIdRow).where(CleverRosterSisIdRow.user_id.in_(user_ids)))
        for row in rows:
            found[row.user_id][row.role] = row.sis_id
        return found

    def gateway_user_ids(self, clever_user_ids: Sequence[str]) -> dict[str, str]:
        if not clever_user_ids:
            return {}
        rows = self._s.execute(select(UserRow.clever_user_id, UserRow.id).where(
            UserRow.clever_user_id.in_(clever_user_ids)))
        return {str(clever_id): str(user_id) for clever_id, user_id in rows.all()}

    def by_sis_id(self, district_id: str, sis_id: str) -> Sequence[CleverRosterUserRow]:
        """Roster users holding ``sis_id`` in a district (any role); for identity matching."""
        holders = select(CleverRosterSisIdRow.user_id).where(
            CleverRosterSisIdRow.district_id == district_id, CleverRosterSisIdRow.sis_id == sis_id
        )
        return self._s.scalars(
            select(CleverRosterUserRow).where(CleverRosterUserRow.id.in_(holders)).order_by(CleverRosterUserRow.id)
        ).all()

    def by_email_digest(self, district_id: str, digest: str) -> Sequence[CleverRosterUserRow]:
        return self._s.scalars(
            select(CleverRosterUserRow).where(
                CleverRosterUserRow.district_id == district_id, CleverRosterUserRow.email_digest == digest
            )
        ).all()

    def counts(self, district_id: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for kind, model in ROSTER_MODELS.items():
            out[kind] = int(self._s.scalar(
                select(func.count()).select_from(model)
                .where(model.district_id == district_id, model.archived_at.is_(None))
            ) or 0)
        return out
