"""Tool signing key metadata."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.store.models.core import ToolKeyRow


class ToolKeyRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, row: ToolKeyRow) -> None:
        self._s.add(row)

    def get(self, kid: str) -> ToolKeyRow | None:
        return self._s.get(ToolKeyRow, kid)

    def list(self) -> Sequence[ToolKeyRow]:
        return self._s.scalars(select(ToolKeyRow).order_by(ToolKeyRow.created_at, ToolKeyRow.kid)).all()

    def with_status(self, status: str) -> Sequence[ToolKeyRow]:
        return self._s.scalars(
            select(ToolKeyRow).where(ToolKeyRow.status == status).order_by(ToolKeyRow.created_at)
        ).all()
