"""Count what a piece of work sends to the database: statements (as the driver gets them) and transactions.

Counts, not timings: a batch of 1,000 grades must cost the statements a batch of 10 costs, and a delivery a
fixed handful. An ``executemany`` (SQLite) or one page of ``insertmanyvalues`` (PostgreSQL) is one statement.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event, insert, select

from gateway.bootstrap import Services
from gateway.store.models.base import utcnow
from gateway.store.models.core import UserRow
from gateway.store.models.lti import LtiIdentityRow
from gateway.store.models.writeback_assignments import LtiContextMemberRow


@dataclass
class StatementLog:
    statements: list[str] = field(default_factory=list)
    transactions: int = 0

    def of(self, *verbs: str) -> list[str]:
        return [s for s in self.statements if s.lstrip().split(None, 1)[0].upper() in verbs]


@contextlib.contextmanager
def counting(engine: Engine) -> Iterator[StatementLog]:
    log = StatementLog()

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        log.statements.append(sql)

    def begin(_conn: Any) -> None:
        log.transactions += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "begin", begin)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "begin", begin)


def seed_learners(services: Services, like_user_id: str, count: int) -> list[str]:
    """``count`` more learners in the LTI course ``like_user_id`` launched in, as launches would leave them."""
    with services.db.transaction() as s:
        identity = s.scalars(select(LtiIdentityRow).where(LtiIdentityRow.user_id == like_user_id)).one()
        context_ref = s.scalars(
            select(LtiContextMemberRow.context_ref).where(LtiContextMemberRow.user_id == like_user_id)).one()
        now = utcnow()
        ids = [f"usr_seeded{n:05d}" for n in range(count)]
        s.execute(insert(UserRow), [{"id": user_id, "created_at": now} for user_id in ids])
        s.execute(insert(LtiIdentityRow), [
            {"id": f"lid_seeded{n:05d}", "user_id": user_id, "registration_id": identity.registration_id,
             "sub": f"seeded-{n}", "created_at": now, "last_launch_at": now}
            for n, user_id in enumerate(ids)])
        s.execute(insert(LtiContextMemberRow), [
            {"context_ref": context_ref, "user_id": user_id, "roles": ["Learner"], "learner": True,
             "first_launch_at": now, "last_launch_at": now}
            for user_id in ids])
    return ids
