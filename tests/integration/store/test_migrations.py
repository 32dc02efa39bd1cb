"""The migration chain upgrades an empty database on SQLite and on PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect, text

from gateway.store import Database
from gateway.store.models import Base
from tests.support.databases import DatabaseFactory


def test_upgrade_empty_database_to_heads(db_factory: DatabaseFactory, engine_name: str) -> None:
    db = Database(db_factory.empty_url(engine_name))
    try:
        assert not db.migrations_current()
        db.upgrade()
        assert db.migrations_current()
        tables = set(inspect(db.engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        db.upgrade()  # a second run is a no-op
        assert db.migrations_current()
    finally:
        db.dispose()


def test_models_match_migrations(database: Database) -> None:
    """Every model column exists in the migrated schema (a model change without a migration fails here)."""
    inspector = inspect(database.engine)
    for table in Base.metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert {c.name for c in table.columns} <= columns, table.name


def test_sqlite_runs_with_wal_and_foreign_keys(db_factory: DatabaseFactory) -> None:
    db = Database(db_factory.sqlite_url())
    try:
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        db.dispose()


def test_history_has_one_head(database: Database) -> None:
    """Feature branches are merged: later migrations have one ordered history to build on."""
    assert len(database.migration_heads()) == 1
