"""Tool signing key metadata."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select, update
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

    def promote(self, kid: str, at: dt.datetime) -> bool:
        """next -> active, retiring the keys that were active. False if another replica already did it."""
        done = self._s.execute(
            update(ToolKeyRow).where(ToolKeyRow.kid == kid, ToolKeyRow.status == "next")
            .values(status="active", activated_at=at)
        )
        if not done.rowcount:  # type: ignore[attr-defined]  # CursorResult has rowcount
            return False
        self._s.execute(
            update(ToolKeyRow).where(ToolKeyRow.status == "active", ToolKeyRow.kid != kid)
            .values(status="retired", retired_at=at)
        )
        return True

    def retire(self, kids: Sequence[str], at: dt.datetime) -> None:
        """active -> retired now (still published for the grace period, then expired)."""
        if kids:
            self._s.execute(
                update(ToolKeyRow).where(ToolKeyRow.kid.in_(kids), ToolKeyRow.status == "active")
                .values(status="retired", retired_at=at)
            )

    def expire_retired(self, retired_before: dt.datetime) -> int:
        """Retired keys past their grace period leave the JWKS for good."""
        done = self._s.execute(
            update(ToolKeyRow).where(ToolKeyRow.status == "retired", ToolKeyRow.retired_at < retired_before)
            .values(status="expired")
        )
        return int(done.rowcount)  # type: ignore[attr-defined]  # CursorResult has rowcount
