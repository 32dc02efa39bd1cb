"""Engine, sessions and migrations for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, SQLAlchemyError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from gateway.settings import SettingsError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


_WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|SAVEPOINT|CREATE|DROP|ALTER)\b", re.IGNORECASE)
_BEGIN_PENDING = "gateway_sqlite_begin_pending"


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite begins a transaction only before INSERT/UPDATE/DELETE, so a SAVEPOINT that comes first opens
    # none and its RELEASE commits. SQLAlchemy's recipe for pysqlite: turn pysqlite's own BEGIN off and emit
    # BEGIN when SQLAlchemy begins (the "begin" listener below). The PRAGMAs then run in autocommit, as
    # journal_mode=WAL must (it cannot change inside a transaction).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the one writer; foreign keys are off in SQLite unless asked for.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # The BEGIN waits for the transaction's first write (see _sqlite_before_execute); until then its reads run
    # in autocommit, as they did under pysqlite.
    connection.info[_BEGIN_PENDING] = True


def _sqlite_end(connection: Connection) -> None:
    connection.info.pop(_BEGIN_PENDING, None)


def _sqlite_before_execute(connection: Connection, cursor: Any, statement: str, *_args: Any) -> None:
    """BEGIN right before the first write (or SAVEPOINT, or DDL) of a transaction, not at its start.

    A BEGIN at the start would hold a read snapshot from the first SELECT on; in WAL mode, when another
    connection commits a write meanwhile, this transaction's first write then fails at once with "database is
    locked" (SQLITE_BUSY_SNAPSHOT, which busy_timeout does not wait out), so concurrent read-then-write
    requests, the common shape here, would fail instead of queueing for the one writer. A BEGIN followed at
    once by a write waits for the lock like any write. That is where pysqlite put its BEGIN; the difference is
    that a SAVEPOINT now counts as a write (so a savepoint should open with its write, not with a read).
    """
    if connection.info.get(_BEGIN_PENDING) and _WRITES.match(statement):
        del connection.info[_BEGIN_PENDING]
        cursor.execute("BEGIN")


def _written(session: Session) -> set[str]:
    found: set[str] = session.info.setdefault(_WRITTEN, set())
    return found


def _note_flushed(session: Session, _context: Any) -> None:
    for row in (*session.new, *session.dirty, *session.deleted):
        table = getattr(row, "__tablename__", None)
        if isinstance(table, str):
            _written(session).add(table)


def _note_executed(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        name = getattr(table, "name", None)
        if isinstance(name, str):
            _written(state.session).add(name)


def _forget_written(session: Session) -> None:
    session.info.pop(_WRITTEN, None)


def _private_file(path: Path) -> None:
    """The SQLite file holds personal data: created owner-only (0600; SQLite gives its -wal/-shm the same mode)."""
    if not path.exists():
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    elif path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o077:
        path.chmod(0o600)  # made by an older release with the umask's mode


def make_engine(url: str, *, ping_after_idle_seconds: float = 10.0) -> Engine:
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            _private_file(Path(database))
        # Pooled, so the PRAGMAs above run once per connection, not once per transaction (opening a connection
        # and its PRAGMAs was half a launch's CPU). Connections move between threads, never two at once.
        engine = create_engine(url, pool_size=8, max_overflow=8, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "commit", _sqlite_end)
        event.listen(engine, "rollback", _sqlite_end)
        event.listen(engine, "before_cursor_execute", _sqlite_before_execute)
        return engine
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = create_engine(parsed, pool_size=5, max_overflow=10)
    event.listen(engine.pool, "checkin", _note_checkin)
    event.listen(engine.pool, "checkout", functools.partial(_ping_if_idle, ping_after_idle_seconds))
    return engine


# A pooled PostgreSQL connection idle longer than ``ping_after_idle_seconds`` is pinged before use (a database
# restart or a proxy's idle cut leaves it dead); one in steady use is not: pool_pre_ping's SELECT 1 on every
# checkout was a round trip per transaction (15% of a launch's time on PostgreSQL).
_CHECKED_IN_AT = "gateway_checked_in_at"


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info[_CHECKED_IN_AT] = time.monotonic()


def _ping_if_idle(idle_seconds: float, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    since = record.info.get(_CHECKED_IN_AT)
    if since is not None and time.monotonic() - since < idle_seconds:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_connection.rollback()  # leave no transaction open behind the ping
    except Exception as e:  # any failure means the connection is unusable: the pool replaces it and retries
        raise DisconnectionError() from e


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


_WRITTEN = "gateway_written_tables"


class Database:
    """One engine and its session factory. ``transaction()`` is the unit of work (and says who opens it)."""

    def __init__(self, url: str, *, ping_after_idle_seconds: float = 10.0) -> None:
        self.url = url
        self.engine = make_engine(url, ping_after_idle_seconds=ping_after_idle_seconds)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._watchers: list[tuple[frozenset[str], Callable[[], None]]] = []
        event.listen(self._sessions, "after_flush", _note_flushed)
        event.listen(self._sessions, "do_orm_execute", _note_executed)
        event.listen(self._sessions, "after_commit", self._after_commit)
        event.listen(self._sessions, "after_rollback", _forget_written)

    def watch(self, tables: Iterable[str], callback: Callable[[], None]) -> None:
        """Call ``callback`` after every commit (through this database's sessions) that wrote one of ``tables``.

        In-process caches empty themselves this way; other processes' writes reach them by expiry only.
        """
        self._watchers.append((frozenset(tables), callback))

    def _after_commit(self, session: Session) -> None:
        written: set[str] = session.info.pop(_WRITTEN, set())
        if not written:
            return
        for tables, callback in self._watchers:
            if tables & written:
                callback()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits on success and rolls back on any exception.

        The one transaction rule: one transaction per request, command or job, opened by the outermost caller,
        and nothing below it opens another. Where the work is one service call (a launch, a login, a sync, a
        delivery), the service method is that caller and opens it here. Where a view or a command composes
        session-taking functions itself (the admin API and management commands), it opens the transaction:
        API writes through ``gateway.api.idempotency.unit_of_work()``, which opens it with the
        ``Idempotency-Key`` row so both commit together. Every function below takes the ``Session`` as its first
        argument and never opens a transaction. One function per operation: where an operation is needed both
        alone and inside another transaction, only the session-taking function exists (no ``_in`` twin).

        ``session.begin_nested()`` is a savepoint on both engines (on SQLite too, see ``_sqlite_connect``): its
        rollback undoes its own work only, and its release leaves the rest to this transaction.
        """
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def upgrade(self, revision: str = "heads") -> None:
        cfg = alembic_config(self.url)
        with self.engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)

    def migration_heads(self) -> set[str]:
        return set(ScriptDirectory.from_config(alembic_config(self.url)).get_heads())

    def current_revisions(self) -> set[str]:
        with self.engine.connect() as connection:
            return set(MigrationContext.configure(connection).get_current_heads())

    def migrations_current(self) -> bool:
        return self.current_revisions() == self.migration_heads()

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


# The URL schemes the gateway runs on with the drivers it installs (postgresql:// means psycopg 3, see make_engine).
DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql", "postgres", "postgresql+psycopg")


def check_database_url(url: str) -> None:
    """A URL SQLAlchemy can parse, for an engine and driver the gateway runs on (refused by name otherwise)."""
    try:
        scheme = make_url(url).drivername
    except ArgumentError as e:
        raise SettingsError("GATEWAY_DATABASE_URL", "must be a database URL such as postgresql://user@host/db or "
                            "sqlite:///var/gateway.db") from e
    if scheme not in DRIVERS:
        raise SettingsError("GATEWAY_DATABASE_URL",
                            f"must use one of the schemes {', '.join(DRIVERS)}; got {scheme!r}")


def database_error_line(url: str, error: SQLAlchemyError) -> str:
    """One line for an operator: which database (its URL without the password) and what the driver said first.

    The driver's first line names the cause ("database \\"x\\" does not exist", "Connection refused"); the rest
    (SQLAlchemy's background link, the statement) is left out, and no traceback is printed.
    """
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        shown = "(a URL SQLAlchemy cannot parse)"
    cause = str(getattr(error, "orig", None) or error).strip().splitlines()
    reason = " ".join(cause[0].split()) if cause else type(error).__name__
    if "no such table" in reason or ("relation" in reason and "does not exist" in reason):
        reason += " (not migrated: run `gateway db upgrade`)"
    return f"database {shown}: {reason}"
