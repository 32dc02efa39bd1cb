"""Clever rate budgets: one row per bearer-token digest, taken and blocked with single atomic statements.

Every process draws from the same row, so a deployment (workers, replicas, the CLI) spends one budget per token.
Each change is one ``UPDATE ... WHERE`` that checks and spends together (no read-modify-write race) on SQLite and
PostgreSQL alike; a missing row is inserted once (a concurrent insert is tolerated).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.store.models.clever import CleverRateBudgetRow as Row


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Budget:
    window_start: float
    used: int
    blocked_until: float


class CleverRateBudgetRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def take(self, key: str, *, window_start: float, limit: int, now: float) -> bool:
        """Spend one call of ``key``'s budget in the window starting ``window_start``; False when the window is
        spent or the token is blocked (or there is no row yet: :meth:`ensure` it and try again)."""
        result = self._s.execute(
            update(Row)
            .where(
                Row.key == key,
                Row.blocked_until <= now,
                or_(Row.window_start < window_start, Row.used < limit),
            )
            .values(
                used=case((Row.window_start < window_start, 1), else_=Row.used + 1),
                window_start=case((Row.window_start < window_start, window_start), else_=Row.window_start),
            )
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    def ensure(self, key: str, *, window_start: float) -> None:
        """A fresh row for ``key`` unless one exists (two processes may race to make it)."""
        if self._s.get(Row, key) is not None:
            return
        try:
            with self._s.begin_nested():
                self._s.add(Row(key=key, window_start=window_start, used=0, blocked_until=0.0))
        except IntegrityError:
            pass

    def get(self, key: str) -> Budget | None:
        row = self._s.get(Row, key, populate_existing=True)
        return None if row is None else Budget(row.window_start, row.used, row.blocked_until)

    def block(self, key: str, *, until: float, window_start: float) -> None:
        """No call with ``key`` before ``until``; an earlier block is extended, never shortened."""
        self.ensure(key, window_start=window_start)
        self._s.execute(
            update(Row).where(Row.key == key, Row.blocked_until < until).values(blocked_until=until)
            .execution_options(synchronize_session=False)
        )

    def purge(self, *, idle_before: float, now: float) -> int:
        """Forget tokens idle since ``idle_before`` and not blocked (every login's token gets a row)."""
        result = self._s.execute(
            delete(Row).where(and_(Row.window_start < idle_before, Row.blocked_until <= now))
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result)
