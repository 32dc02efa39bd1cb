"""The audit log: append-only, written in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.store.models.core import AuditEntryRow


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def record(self, actor: str, action: str, target: str, **details: Any) -> AuditEntryRow:
        row = AuditEntryRow(actor=actor, action=action, target=target, details=details)
        self._s.add(row)
        return row

    def list(
        self, *, action: str | None = None, target: str | None = None, limit: int = 100
    ) -> Sequence[AuditEntryRow]:
        query = select(AuditEntryRow).order_by(AuditEntryRow.id.desc()).limit(limit)
        if action:
            query = query.where(AuditEntryRow.action == action)
        if target:
            query = query.where(AuditEntryRow.target == target)
        return self._s.scalars(query).all()
