"""What the operator console's overview and audit page read: counts by state over a window, the audit log
filtered. Read-only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.store.models.clever import CleverDistrictRow
from gateway.store.models.core import AuditEntryRow, LaunchRow
from gateway.store.models.writeback import OutboxRow


class ConsoleOverviewRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def launches_since(self, since: dt.datetime) -> dict[str, int]:
        """Launches (LTI, Clever) recorded since ``since``, by kind (records are kept 24 h: a day window is whole)."""
        rows = self._s.execute(select(LaunchRow.kind, func.count()).where(LaunchRow.created_at >= since)
                               .group_by(LaunchRow.kind)).all()
        return {str(kind): int(count) for kind, count in rows}

    def deliveries_since(self, since: dt.datetime) -> dict[str, int]:
        """Deliveries created since ``since``, by their state now."""
        rows = self._s.execute(select(OutboxRow.state, func.count()).where(OutboxRow.created_at >= since)
                               .group_by(OutboxRow.state)).all()
        return {str(state): int(count) for state, count in rows}

    def deliveries_by_state(self) -> dict[str, int]:
        rows = self._s.execute(select(OutboxRow.state, func.count()).group_by(OutboxRow.state)).all()
        return {str(state): int(count) for state, count in rows}

    def districts_by_state(self) -> dict[str, int]:
        """Clever districts by connection status and sync status (``connected/succeeded``)."""
        rows = self._s.execute(select(CleverDistrictRow.status, CleverDistrictRow.sync_status, func.count())
                               .group_by(CleverDistrictRow.status, CleverDistrictRow.sync_status)).all()
        return {f"{status}/{sync}": int(count) for status, sync, count in rows}

    def districts_synced_since(self, since: dt.datetime) -> dict[str, int]:
        rows = self._s.execute(select(CleverDistrictRow.sync_status, func.count())
                               .where(CleverDistrictRow.synced_at >= since)
                               .group_by(CleverDistrictRow.sync_status)).all()
        return {str(sync): int(count) for sync, count in rows}

    def audit(self, *, actor: str | None = None, action: str | None = None, target: str | None = None,
              before_id: int | None = None, limit: int = 100) -> Sequence[AuditEntryRow]:
        """Audit entries newest first; ``action`` matches a prefix (``lti.`` finds every LTI change)."""
        query = select(AuditEntryRow).order_by(AuditEntryRow.id.desc()).limit(limit)
        if actor:
            query = query.where(AuditEntryRow.actor == actor)
        if action:
            query = query.where(AuditEntryRow.action.startswith(action, autoescape=True))
        if target:
            query = query.where(AuditEntryRow.target == target)
        if before_id is not None:
            query = query.where(AuditEntryRow.id < before_id)
        return self._s.scalars(query).all()
