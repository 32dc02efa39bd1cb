"""Writeback's own periodic jobs: purge expired idempotency keys and old delivered rows.

Failed and dead rows are never purged: they wait for an operator (replay, or a
decision recorded elsewhere). Delivered rows are kept ``writeback_delivered_retention_days``
so that status reads and the "newer grade already delivered" check have history.
"""

from __future__ import annotations

import datetime as dt
import logging

from gateway.ops.logs import log_event
from gateway.runtime import PeriodicJob
from gateway.settings import Settings
from gateway.store import Database
from gateway.store.models.base import utcnow
from gateway.store.repositories.idempotency import IdempotencyRepository
from gateway.store.repositories.outbox import OutboxRepository

log = logging.getLogger("gateway.writeback.housekeeping")

PURGE_INTERVAL_SECONDS = 3600.0


def purge_idempotency_keys(db: Database) -> int:
    with db.transaction() as s:
        purged = IdempotencyRepository(s).purge_expired(utcnow())
    log_event(log, logging.INFO, "idempotency keys purged", count=purged)
    return purged


def purge_delivered(db: Database, retention_days: int) -> int:
    before = utcnow() - dt.timedelta(days=retention_days)
    total = 0
    while True:  # bounded batches keep each write transaction short
        with db.transaction() as s:
            purged = OutboxRepository(s).purge_delivered(before)
        total += purged
        if purged == 0:
            break
    log_event(log, logging.INFO, "delivered outbox rows purged", count=total)
    return total


def writeback_jobs(db: Database, settings: Settings) -> list[PeriodicJob]:
    def purge_keys() -> None:
        purge_idempotency_keys(db)

    def purge_rows() -> None:
        purge_delivered(db, settings.writeback_delivered_retention_days)

    return [
        PeriodicJob("idempotency.purge", PURGE_INTERVAL_SECONDS, purge_keys),
        PeriodicJob("outbox.purge_delivered", PURGE_INTERVAL_SECONDS, purge_rows),
    ]
