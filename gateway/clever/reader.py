"""Read side of the roster for the vendor API (``/api/v1/clever/...``) and for identity matching.

Lists page with an opaque cursor (:mod:`gateway.api.cursor`) that carries the last key seen. Archived records are
hidden unless asked for; a single user is shown even when archived, with ``archived: true``, so historical links
still resolve.
"""

from __future__ import annotations

from typing import Any

from gateway.api.cursor import Cursor, Page
from gateway.clever.errors import CleverDistrictNotFound, CleverRosterUserNotFound, CleverSectionNotFound
from gateway.clever.privacy import LookupDigest
from gateway.clever.roster import RosterCodec
from gateway.store import Database
from gateway.store.models.base import iso
from gateway.store.models.clever import CleverDistrictRow, CleverRosterUserRow, CleverSectionRow
from gateway.store.repositories.clever_roster import CleverDistrictRepository, CleverRosterRepository

DISTRICTS = Cursor("clever.districts")
SECTIONS = Cursor("clever.sections")
SECTION_USERS = Cursor("clever.section_users", (str, str))  # (user id, section role)


def district_view(row: CleverDistrictRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "status": row.status,
        "lms_state": row.lms_state,
        "lms_type": row.lms_type,
        "connected_at": iso(row.connected_at),
        "disconnected_at": iso(row.disconnected_at),
        "sync": {
            "status": row.sync_status,
            "requested_at": iso(row.sync_requested_at),
            "progress": row.sync_progress,
            "last": row.last_sync,
            "synced_at": iso(row.synced_at),
            "full_synced_at": iso(row.full_synced_at),
            "failures": row.sync_failures or 0,
            "retry_at": iso(row.sync_retry_at),
            # Failures with no retry planned: the cap was reached, only an on-demand sync runs now.
            "retries_exhausted": bool(row.sync_failures) and row.sync_retry_at is None,
        },
    }


class RosterReader:
    def __init__(self, db: Database, codec: RosterCodec, digest: LookupDigest) -> None:
        self._db = db
        self._codec = codec
        self._digest = digest

    def districts(self, cursor: str | None, limit: int) -> Page:
        after = DISTRICTS.decode(cursor)
        with self._db.transaction() as s:
            rows = CleverDistrictRepository(s).page(after[0] if after else None, limit + 1)
            views = [district_view(r) for r in rows[:limit]]
        return Page(views, DISTRICTS.encode(views[-1]["id"]) if len(rows) > limit else None)

    def district(self, district_id: str) -> dict[str, Any]:
        with self._db.transaction() as s:
            row = CleverDistrictRepository(s).get(district_id)
            if row is None:
                raise CleverDistrictNotFound()
            return district_view(row)

    def sections(self, district_id: str, cursor: str | None, limit: int, include_archived: bool) -> Page:
        after = SECTIONS.decode(cursor)
        with self._db.transaction() as s:
            if CleverDistrictRepository(s).get(district_id) is None:
                raise CleverDistrictNotFound()
            roster = CleverRosterRepository(s)
            rows = roster.sections(district_id, after[0] if after else None, limit + 1, include_archived)
            views = [self._section(roster, row) for row in rows[:limit]]
        return Page(views, SECTIONS.encode(views[-1]["id"]) if len(rows) > limit else None)

    def section_users(self, section_id: str, role: str | None, cursor: str | None, limit: int,
                      include_archived: bool) -> Page:
        after = SECTION_USERS.decode(cursor)
        with self._db.transaction() as s:
            roster = CleverRosterRepository(s)
            if roster.section(section_id) is None:
                raise CleverSectionNotFound()
            pairs = roster.section_users(section_id, role, (after[0], after[1]) if after else None, limit + 1,
                                         include_archived)
            shown = pairs[:limit]
            ids = [row.id for row, _ in shown]
            sis, gateway_ids = roster.sis_ids(ids), roster.gateway_user_ids(ids)
            views = [{**self._user(row, sis[row.id], gateway_ids.get(row.id)), "section_role": member_role}
                     for row, member_role in shown]
        more = len(pairs) > limit
        return Page(views, SECTION_USERS.encode(views[-1]["id"], views[-1]["section_role"]) if more else None)

    def user(self, user_id: str) -> dict[str, Any]:
        with self._db.transaction() as s:
            roster = CleverRosterRepository(s)
            row = roster.user(user_id)
            if row is None:
                raise CleverRosterUserNotFound()
            return self._user(row, roster.sis_ids([row.id])[row.id], roster.gateway_user_ids([row.id]).get(row.id))

    def find_users(self, district_id: str, *, sis_id: str | None = None, email: str | None = None) -> list[str]:
        """Clever user ids in a district holding this SIS id (any role) or this email (for identity matching)."""
        found: list[str] = []
        with self._db.transaction() as s:
            roster = CleverRosterRepository(s)
            if sis_id:
                found.extend(r.id for r in roster.by_sis_id(district_id, sis_id) if r.archived_at is None)
            digest = self._digest.email(email)
            if digest:
                found.extend(r.id for r in roster.by_email_digest(district_id, digest)
                             if r.archived_at is None and r.id not in found)
        return found

    def _section(self, roster: CleverRosterRepository, row: CleverSectionRow) -> dict[str, Any]:
        members = roster.members(row.id)
        return {
            "id": row.id,
            "district_id": row.district_id,
            "school_id": row.school_id,
            "name": row.name,
            "subject": row.subject,
            "grade": row.grade,
            "lms_synced": row.lms_synced,
            "archived": row.archived_at is not None,
            "teacher_ids": [m.user_id for m in members if m.role == "teacher"],
            "student_count": sum(1 for m in members if m.role == "student"),
        }

    def _user(self, row: CleverRosterUserRow, sis_ids: dict[str, str], gateway_user_id: str | None) -> dict[str, Any]:
        profile = self._codec.profile(row)
        return {
            "id": row.id,
            "district_id": row.district_id,
            "roles": list(row.roles),
            "name": {"first": profile.get("first"), "last": profile.get("last")},
            "email": profile.get("email"),
            "sis_ids": sis_ids,
            "school_ids": list(row.school_ids),
            "lms_synced": row.lms_synced,
            "archived": row.archived_at is not None,
            "user_id": gateway_user_id,
        }
