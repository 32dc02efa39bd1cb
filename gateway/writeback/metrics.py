"""Prometheus metrics of writeback, on the app's registry.

Counters and histograms count what *this* process delivered (scrape each worker:
``gateway worker --metrics-port``). Queue depth is read from the database at scrape
time, so any replica's ``/metrics`` shows the whole outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy.exc import SQLAlchemyError

from gateway.ops.logs import log_event
from gateway.store import Database
from gateway.store.models.base import utcnow
from gateway.store.models.writeback import DELIVERED, STATES
from gateway.store.repositories.outbox import OutboxRepository

log = logging.getLogger("gateway.writeback.metrics")

# Delivered rows pile up for the retention period; counting them on every scrape would cost a table scan,
# and gateway_deliveries_total already counts them. The gauge covers what still needs attention.
GAUGED_STATES = tuple(state for state in STATES if state != DELIVERED)
_ROWS_HELP = "Outbox rows not (yet) delivered, by state and backend"
_LATENCY_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600)
_ATTEMPT_BUCKETS = (1, 2, 3, 4, 5, 7, 10, 15, 20, 30)


class QueueCollector:
    """``gateway_outbox_rows{state,backend}`` (not delivered) and ``gateway_outbox_oldest_age_seconds{state}``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def describe(self) -> Iterator[Metric]:
        # Describing without querying keeps registration (at bootstrap) free of database access.
        yield GaugeMetricFamily("gateway_outbox_rows", _ROWS_HELP, labels=["state", "backend"])
        yield GaugeMetricFamily(
            "gateway_outbox_oldest_age_seconds", "Age of the oldest unfinished row by state", labels=["state"]
        )

    def collect(self) -> Iterator[Metric]:
        rows = GaugeMetricFamily("gateway_outbox_rows", _ROWS_HELP, labels=["state", "backend"])
        oldest = GaugeMetricFamily(
            "gateway_outbox_oldest_age_seconds", "Age of the oldest unfinished row by state", labels=["state"]
        )
        try:
            with self._db.transaction() as s:
                repo = OutboxRepository(s)
                depth = repo.depth(GAUGED_STATES)
                ages = repo.oldest_unfinished()
        except SQLAlchemyError:
            log_event(log, logging.WARNING, "outbox depth not collected; database unavailable")
            return
        seen_states = {state for state, _, _ in depth}
        for state, backend, count in depth:
            rows.add_metric([state, backend], count)
        for state in GAUGED_STATES:
            if state not in seen_states:
                rows.add_metric([state, ""], 0)
        now = utcnow()
        for state, created in ages.items():
            oldest.add_metric([state], max(0.0, (now - created).total_seconds()))
        yield rows
        yield oldest


class WritebackMetrics:
    def __init__(self, registry: CollectorRegistry, db: Database) -> None:
        self.outcomes = Counter(
            "gateway_deliveries_total",
            "Delivery attempts by backend, kind, outcome (delivered, retry, failed, dead, skipped, wait, lease_lost) "
            "and remote status (or none)",
            ["backend", "kind", "outcome", "status"],
            registry=registry,
        )
        self.attempt_seconds = Histogram(
            "gateway_delivery_attempt_seconds", "Time a backend took for one attempt", ["backend"], registry=registry
        )
        self.latency = Histogram(
            "gateway_delivery_latency_seconds",
            "From enqueue to delivered",
            ["backend", "kind"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.attempts = Histogram(
            "gateway_delivery_attempts",
            "Attempts a row took to finish (delivered, failed or dead)",
            ["backend", "state"],
            buckets=_ATTEMPT_BUCKETS,
            registry=registry,
        )
        registry.register(QueueCollector(db))
