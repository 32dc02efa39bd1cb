"""Fresh, migrated databases for tests, on SQLite and on PostgreSQL.

Migrating per test is slow, so each engine is migrated once per test process
into a template (a file for SQLite, a template database for PostgreSQL) and
every test gets its own copy. PostgreSQL at 127.0.0.1:5432 (user postgres)
is required when CI=true; elsewhere its tests skip if the server is down.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from gateway.store import Database

PG_ADMIN_DSN = os.environ.get("GATEWAY_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_URL_BASE = os.environ.get("GATEWAY_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
ENGINES = ("sqlite", "postgresql")


def _pg_admin() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=3)


def postgres_available() -> bool:
    try:
        with _pg_admin():
            return True
    except psycopg.OperationalError:
        return False


def require_postgres() -> None:
    if postgres_available():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is unreachable at {PG_ADMIN_DSN} and CI=true: these tests must not skip")
    pytest.skip(f"PostgreSQL is unreachable at {PG_ADMIN_DSN}")


class DatabaseFactory:
    """Hands out fresh migrated databases; cleans them up at the end of the session."""

    def __init__(self) -> None:
        self._tmp = Path(tempfile.mkdtemp(prefix="gw-db-"))
        self._sqlite_template: Path | None = None
        self._pg_template: str | None = None
        self._pg_dbs: list[str] = []

    def sqlite_url(self) -> str:
        if self._sqlite_template is None:
            template = self._tmp / "template.db"
            db = Database(f"sqlite:///{template}")
            db.upgrade()
            db.dispose()
            self._sqlite_template = template
        target = self._tmp / f"{uuid.uuid4().hex}.db"
        shutil.copyfile(self._sqlite_template, target)
        return f"sqlite:///{target}"

    def postgres_url(self) -> str:
        require_postgres()
        if self._pg_template is None:
            name = f"gw_tmpl_{uuid.uuid4().hex[:12]}"
            with _pg_admin() as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            self._pg_dbs.append(name)
            db = Database(f"{PG_URL_BASE}/{name}")
            db.upgrade()
            db.dispose()
            self._pg_template = name
        name = f"gw_test_{uuid.uuid4().hex[:12]}"
        with _pg_admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._pg_template}"')
        self._pg_dbs.append(name)
        return f"{PG_URL_BASE}/{name}"

    def empty_url(self, engine: str) -> str:
        """An empty, unmigrated database (for migration tests)."""
        if engine == "sqlite":
            return f"sqlite:///{self._tmp / (uuid.uuid4().hex + '.db')}"
        require_postgres()
        name = f"gw_empty_{uuid.uuid4().hex[:12]}"
        with _pg_admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self._pg_dbs.append(name)
        return f"{PG_URL_BASE}/{name}"

    def url(self, engine: str) -> str:
        return self.sqlite_url() if engine == "sqlite" else self.postgres_url()

    def close(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)
        if not self._pg_dbs or not postgres_available():
            return
        with _pg_admin() as conn:
            for name in reversed(self._pg_dbs):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def database_factory() -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory()
    try:
        yield factory
    finally:
        factory.close()
