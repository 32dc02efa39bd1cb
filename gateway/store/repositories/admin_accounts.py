"""Admin accounts and their console sessions (the operator console).

The lockout's counter is changed only by single ``UPDATE`` statements that read and write it at once
(``failed_sign_ins + 1``, under the row's write lock on both engines), never by reading the row and writing it back:
several replicas count one account's failures together, and none may lose another's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, delete, literal, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

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

    def count_failure(self, account_id: str, now: dt.datetime, *, limit: int, until: dt.datetime) -> bool | None:
        """Count one failed sign-in of an account that is not locked at ``now``; the ``limit``-th in a row locks it
        until ``until`` and starts the count again. True: this failure locked it; False: counted; None: the account
        was locked already (or is gone), so nothing was counted."""
        reaches = AdminAccountRow.failed_sign_ins + 1 >= limit
        counted = self._s.execute(
            update(AdminAccountRow)
            .where(AdminAccountRow.id == account_id, _unlocked(now))
            .values(failed_sign_ins=case((reaches, 0), else_=AdminAccountRow.failed_sign_ins + 1),
                    locked_until=case((reaches, literal(until, AdminAccountRow.locked_until.type)),
                                      else_=AdminAccountRow.locked_until))
            .returning(AdminAccountRow.failed_sign_ins)
            .execution_options(synchronize_session=False)
        ).scalar_one_or_none()
        if counted is None:
            return None
        self._expire(account_id)
        return counted == 0  # a counted failure is at least 1 unless it locked the account

    def clear_failures(self, account_id: str, now: dt.datetime) -> bool:
        """A good sign-in: the count starts again, unless the account is locked at ``now`` (perhaps by another
        replica since it was read), in which case nothing changes and the answer is False."""
        result = self._s.execute(
            update(AdminAccountRow)
            .where(AdminAccountRow.id == account_id, _unlocked(now))
            .values(failed_sign_ins=0, locked_until=None)
            .execution_options(synchronize_session=False))
        self._expire(account_id)
        return int(getattr(result, "rowcount", 0) or 0) == 1

    def _expire(self, account_id: str) -> None:
        # The statement bypassed the loaded row: read the two columns again when next asked.
        row = self._s.identity_map.get(identity_key(AdminAccountRow, account_id))
        if row is not None:
            self._s.expire(row, ["failed_sign_ins", "locked_until"])

    def count_active_admins(self) -> int:
        rows = self._s.scalars(select(AdminAccountRow.id).where(
            AdminAccountRow.role == "admin", AdminAccountRow.disabled_at.is_(None))).all()
        return len(rows)


def _unlocked(now: dt.datetime) -> Any:
    return or_(AdminAccountRow.locked_until.is_(None), AdminAccountRow.locked_until <= now)


class AdminSessionRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, row: AdminSessionRow) -> None:
        self._s.add(row)

    def get(self, session_id: str) -> AdminSessionRow | None:
        return self._s.get(AdminSessionRow, session_id)

    def delete(self, session_id: str) -> None:
        self._s.execute(delete(AdminSessionRow).where(AdminSessionRow.id == session_id))

    def delete_for_account(self, account_id: str) -> int:
        """End every session of an account: how many there were."""
        result = self._s.execute(delete(AdminSessionRow).where(AdminSessionRow.account_id == account_id))
        return int(getattr(result, "rowcount", 0) or 0)

    def purge_idle(self, seen_before: dt.datetime, created_before: dt.datetime) -> int:
        result = self._s.execute(delete(AdminSessionRow).where(
            (AdminSessionRow.last_seen_at < seen_before) | (AdminSessionRow.created_at < created_before)))
        return int(getattr(result, "rowcount", 0) or 0)
