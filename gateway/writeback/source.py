"""The outbox as the runtime's work source: claim due rows of the backends this process has, deliver, renew.

The worker (:mod:`gateway.runtime.worker`) drives the loop; this module knows what a claim is. Rows are
claimed under a lease (PostgreSQL: ``FOR UPDATE SKIP LOCKED``); each claim is one attempt
(:class:`~gateway.writeback.attempt.Attempter`); the heartbeat renews live leases and buries rows whose
worker died during their last attempt.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Hashable, Mapping, Sequence

from gateway.ops.logs import log_event
from gateway.store import Database
from gateway.store.models.base import utcnow
from gateway.store.repositories.outbox import OutboxRepository
from gateway.writeback.attempt import Attempter, Claim
from gateway.writeback.backends import DeliveryBackend
from gateway.writeback.metrics import WritebackMetrics
from gateway.writeback.outbox import Outbox

log = logging.getLogger("gateway.writeback.source")

BURIED_DETAIL = "the worker holding it stopped during its last attempt (lease expired)"


class OutboxSource:
    """One worker's view of the outbox: it claims only rows of ``backends`` (by name)."""

    def __init__(self, db: Database, outbox: Outbox, backends: Mapping[str, DeliveryBackend],
                 metrics: WritebackMetrics, owner: str) -> None:
        self._db = db
        self._backends = backends
        self._metrics = metrics
        self._attempter = Attempter(db, outbox, backends, metrics, owner)

    def claim(self, owner: str, limit: int, lease_until: dt.datetime) -> list[Claim]:
        backends = sorted(self._backends)
        if not backends:
            return []
        with self._db.transaction() as s:
            rows = OutboxRepository(s).claim_for_delivery(owner=owner, backends=backends, now=utcnow(),
                                                          lease_until=lease_until, limit=limit)
            return [Claim.of(row, newest) for row, newest in rows]

    def key(self, item: Claim) -> Hashable:
        return (item.seq, item.attempts)

    def run(self, item: Claim) -> None:
        self._attempter.run(item)

    def heartbeat(self, owner: str, live: Sequence[Claim], lease_until: dt.datetime) -> None:
        with self._db.transaction() as s:
            repo = OutboxRepository(s)
            repo.renew(owner=owner, seqs=[claim.seq for claim in live], lease_until=lease_until)
            buried = repo.bury_exhausted(utcnow(), BURIED_DETAIL)
        for delivery_id, backend, kind in buried:
            log_event(log, logging.WARNING, "delivery dead after its worker stopped", delivery_id=delivery_id)
            self._metrics.outcomes.labels(backend=backend, kind=kind, outcome="dead", status="none").inc()
