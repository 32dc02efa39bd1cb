"""Identity matching records: match outcomes per LTI identity, conflicts, and launches waiting for a Clever login."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, delete, exists, select, update
from sqlalchemy.orm import Session

from gateway.store.models.base import utcnow
from gateway.store.models.identity import IdentityConflictRow, IdentityMatchRow, IdentityPendingLinkRow
from gateway.store.models.lti import LtiIdentityRow

# Built once (a launch runs it): the outcome of one LTI identity and whether it has an open conflict.
_MATCHES: Table = IdentityMatchRow.__table__  # type: ignore[assignment]  # a declarative class's table
_MATCH_WITH_OPEN_CONFLICT = (
    select(
        *_MATCHES.c,
        exists().where(
            IdentityConflictRow.lti_identity_id == bindparam("identity_id"), IdentityConflictRow.status == "open"
        ),
    )
    .select_from(LtiIdentityRow)
    .outerjoin(_MATCHES, _MATCHES.c.lti_identity_id == LtiIdentityRow.id)
    .where(LtiIdentityRow.id == bindparam("identity_id"))
)
_MATCH_COLUMNS = len(_MATCHES.c)


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class IdentityMatchRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, lti_identity_id: str) -> IdentityMatchRow | None:
        return self._s.get(IdentityMatchRow, lti_identity_id)

    def with_open_conflict(self, lti_identity_id: str) -> tuple[Row[Any] | None, bool]:
        """The identity's outcome as read-only values (if it has one) and whether it has an open conflict, in one
        statement. Give the values to :meth:`upsert` as ``current`` so an unchanged outcome costs no statement."""
        found = cast("Row[Any] | None",
                     self._s.execute(_MATCH_WITH_OPEN_CONFLICT, {"identity_id": lti_identity_id}).first())
        if found is None:
            return None, False
        conflicted = bool(found[_MATCH_COLUMNS])
        return (found if found.lti_identity_id is not None else None), conflicted

    def upsert_changed(self, current: Row[Any] | None, lti_identity_id: str, registration_id: str,
                       **values: Any) -> None:
        """:meth:`upsert`, unless ``current`` (the outcome as just read) already holds every value: then nothing
        is read or written."""
        if current is not None and all(getattr(current, key) == value for key, value in values.items()):
            return
        self.upsert(lti_identity_id, registration_id, **values)

    def upsert(self, lti_identity_id: str, registration_id: str, **values: Any) -> None:
        """Write the identity's outcome; columns not named keep their value; nothing when nothing changed."""
        row = self.get(lti_identity_id)
        if row is None:
            row = IdentityMatchRow(lti_identity_id=lti_identity_id, registration_id=registration_id,
                                   status="unmatched")
            self._s.add(row)
        for key, value in values.items():
            setattr(row, key, value)
        if row.updated_at is None or self._s.is_modified(row):
            row.updated_at = utcnow()
        self._s.flush()

    def of_identities(self, ids: Sequence[str]) -> dict[str, IdentityMatchRow]:
        if not ids:
            return {}
        rows = self._s.scalars(select(IdentityMatchRow).where(IdentityMatchRow.lti_identity_id.in_(ids)))
        return {row.lti_identity_id: row for row in rows}

    def page(self, statuses: Sequence[str], *, district_id: str | None, registration_id: str | None,
             after: str | None, limit: int) -> Sequence[tuple[IdentityMatchRow, LtiIdentityRow]]:
        query = (
            select(IdentityMatchRow, LtiIdentityRow)
            .join(LtiIdentityRow, LtiIdentityRow.id == IdentityMatchRow.lti_identity_id)
            .where(IdentityMatchRow.status.in_(statuses))
            .order_by(IdentityMatchRow.lti_identity_id)
            .limit(limit)
        )
        if district_id:
            query = query.where(IdentityMatchRow.district_id == district_id)
        if registration_id:
            query = query.where(IdentityMatchRow.registration_id == registration_id)
        if after:
            query = query.where(IdentityMatchRow.lti_identity_id > after)
        return [(m, i) for m, i in self._s.execute(query).all()]


class IdentityConflictRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, conflict_id: str) -> IdentityConflictRow | None:
        return self._s.get(IdentityConflictRow, conflict_id)

    def add(self, row: IdentityConflictRow) -> None:
        self._s.add(row)
        self._s.flush()

    def open_for(self, lti_identity_id: str, kind: str | None = None) -> Sequence[IdentityConflictRow]:
        query = select(IdentityConflictRow).where(
            IdentityConflictRow.lti_identity_id == lti_identity_id, IdentityConflictRow.status == "open"
        ).order_by(IdentityConflictRow.id)
        if kind:
            query = query.where(IdentityConflictRow.kind == kind)
        return self._s.scalars(query).all()

    def of_identities(self, ids: Sequence[str], *, status: str = "open") -> Sequence[IdentityConflictRow]:
        if not ids:
            return []
        return self._s.scalars(
            select(IdentityConflictRow)
            .where(IdentityConflictRow.lti_identity_id.in_(ids), IdentityConflictRow.status == status)
            .order_by(IdentityConflictRow.id)
        ).all()

    def page(self, status: str | None, *, after: str | None, limit: int) -> Sequence[IdentityConflictRow]:
        query = select(IdentityConflictRow).order_by(IdentityConflictRow.id).limit(limit)
        if status:
            query = query.where(IdentityConflictRow.status == status)
        if after:
            query = query.where(IdentityConflictRow.id > after)
        return self._s.scalars(query).all()


class PendingLinkRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, row: IdentityPendingLinkRow) -> None:
        self._s.add(row)
        self._s.flush()

    def by_token_hash(self, token_hash: str) -> IdentityPendingLinkRow | None:
        return self._s.scalars(
            select(IdentityPendingLinkRow).where(IdentityPendingLinkRow.token_hash == token_hash)
        ).first()

    def by_binding_hash(self, binding_hash: str) -> IdentityPendingLinkRow | None:
        return self._s.scalars(
            select(IdentityPendingLinkRow).where(IdentityPendingLinkRow.binding_hash == binding_hash)
        ).first()

    def claim(self, pending_id: str, from_statuses: Sequence[str], status: str, now: dt.datetime) -> bool:
        """Move a pending link on; False when another request (a second tab, a double click) moved it first."""
        return _rowcount(self._s.execute(
            update(IdentityPendingLinkRow)
            .where(IdentityPendingLinkRow.id == pending_id, IdentityPendingLinkRow.status.in_(from_statuses))
            .values(status=status, finished_at=now)
        )) == 1

    def purge_expired(self, now: dt.datetime) -> int:
        return _rowcount(self._s.execute(
            delete(IdentityPendingLinkRow).where(IdentityPendingLinkRow.expires_at < now)
        ))
