"""Storage kept per launch, before and after the purge jobs would have run (a day later).

The gateway keeps each launch record (and its hand-off code) 24 hours and each login state until it expires
(10 minutes); its periodic jobs delete them after that. To see what a day leaves without waiting a day, this runs
the same repository deletes the jobs run, with "now" a day and an hour ahead, then compacts the database
(SQLite ``VACUUM``, PostgreSQL ``VACUUM FULL``) so its size shows only what is kept.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import psycopg

from bench.servers import Server


def purge_as_if_a_day_later(server: Server, database_url: str) -> dict[str, int]:
    from gateway.bootstrap import bootstrap
    from gateway.settings import load_settings
    from gateway.store.models.base import utcnow
    from gateway.store.repositories.launches import LaunchRepository
    from gateway.store.repositories.lti_launches import LoginStateRepository

    later = utcnow() + dt.timedelta(hours=25)
    services = bootstrap(load_settings(environ=server.env))
    try:
        with services.db.transaction() as s:
            return {"launch records": LaunchRepository(s).purge_expired(later),
                    "login states": LoginStateRepository(s).purge_expired(later)}
    finally:
        services.close()


def compact(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        # In WAL mode VACUUM writes the new file through the WAL: checkpoint after it, or the WAL holds it all.
        conn = sqlite3.connect(Path(database_url.removeprefix("sqlite:///")), isolation_level=None)
        try:
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
    else:
        with psycopg.connect(database_url, autocommit=True) as pg:
            pg.execute("VACUUM FULL")
