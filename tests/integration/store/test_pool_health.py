"""A pooled PostgreSQL connection that died while idle (a restart, a proxy's idle cut) is replaced, not used.

The pool pings a connection only after it sat idle (no SELECT 1 round trip per transaction under load); here the
idle threshold is 0 so the ping runs, and the connection behind it is killed from outside first.
"""

from __future__ import annotations

from sqlalchemy import text

from gateway.store import Database
from tests.support.databases import DatabaseFactory, _pg_admin


def test_a_connection_killed_while_idle_is_replaced_before_the_next_transaction(db_factory: DatabaseFactory) -> None:
    db = Database(db_factory.postgres_url(), ping_after_idle_seconds=0)
    try:
        with db.transaction() as s:
            first = s.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with _pg_admin() as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s)", (first,)).fetchone() == (True,)
        with db.transaction() as s:  # would raise "terminating connection" without the ping
            second = s.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert second != first
    finally:
        db.dispose()
