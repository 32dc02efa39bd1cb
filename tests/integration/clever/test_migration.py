"""Migration 0003_clever builds exactly what the models describe, on both engines, and comes off cleanly."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from gateway.store import Database
from gateway.store.db import alembic_config
from gateway.store.models import Base


def _touches_clever(diff: Any) -> bool:
    text = repr(diff)
    return "clever_" in text


def test_models_and_migration_agree(database: Database) -> None:
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diffs = [d for d in compare_metadata(context, Base.metadata) if _touches_clever(d)]
    assert diffs == []


def test_downgrade_removes_the_clever_tables(database: Database) -> None:
    cfg = alembic_config(database.url)
    with database.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0003_clever")  # first what builds on the Clever tables (identity, a merge point)
        command.downgrade(cfg, "0003_clever@-1")
    tables = set(inspect(database.engine).get_table_names())
    assert not {t for t in tables if t.startswith("clever_")}
    assert "users" in tables
    database.upgrade()
    assert "clever_roster_users" in set(inspect(database.engine).get_table_names())
