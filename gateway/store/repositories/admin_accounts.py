"""Admin accounts and their console sessions (the operator console)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gateway.store.models.console import AdminAccountRow, AdminSessionRow


class AdminAccountRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, row: AdminAccountRow) -> None:
        self._s.add(row)

    def get(self, account_id: str) -> AdminAccountRow | None:
        return self._s.get(AdminAccountRow, account_id)

    def by_name(self, name: str) -> AdminAccountRow | None:
        return self._s.scalars(select(AdminAccountRow).where(AdminAccountRow.name == name)).first()

    def list(self) -> Sequence[AdminAccountRow]:
        return self._s.scalars(select(AdminAccountRow).order_by(AdminAccountRow.name)).all()

    def count_active_admins(self) -> int:
        rows = self._s.scalars(select(AdminAccountRow.id).where(
            AdminAccountRow.role == "admin", AdminAccountRow.disabled_at.is_(None))).all()
        return len(rows)


class AdminSessionRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, row: AdminSessionRow) -> None:
        self._s.add(row)

    def get(self, session_id: str) -> AdminSessionRow | None:
        return self._s.get(AdminSessionRow, session_id)

    def delete(self, session_id: str) -> None:
        self._s.execute(delete(AdminSessionRow).where(AdminSessionRow.id == session_id))

    def delete_for_account(self, account_id: str) -> None:
        self._s.execute(delete(AdminSessionRow).where(AdminSessionRow.account_id == account_id))

    def purge_idle(self, seen_before: dt.datetime, created_before: dt.datetime) -> int:
        result = self._s.execute(delete(AdminSessionRow).where(
            (AdminSessionRow.last_seen_at < seen_before) | (AdminSessionRow.created_at < created_before)))
        return int(getattr(result, "rowcount", 0) or 0)
