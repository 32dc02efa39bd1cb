"""Storage: SQLAlchemy 2 models, Alembic migrations and repositories.

This package is the only place in the gateway that speaks SQL. Everything else
asks a repository. One :class:`~gateway.store.db.Database` is built by
:mod:`gateway.bootstrap` and shared by every feature.
"""

from __future__ import annotations

from gateway.store.db import Database, check_database_url, database_error_line

__all__ = ["Database", "check_database_url", "database_error_line"]
