"""Metrics of the AGS and Clever delivery backends, beside the outbox's own (``gateway_deliveries_total``...).
The AGS client's token metrics are LTI's (``gateway.lti.metrics``).

- ``gateway_writeback_grade_refusals_total{backend,status}``: grades the remote refused for good (the
  student is not enrolled, the role cannot be graded): each fails alone.
- ``gateway_writeback_waits_total{backend,reason}``: attempts that sent nothing because something had to
  happen first (the assignment is not created yet) or cannot happen (Clever not ready, superseded).
- ``gateway_writeback_possible_duplicates_total{backend}``: creations whose answer was lost (5xx, no answer) after
  they may have reached the remote; not sent again, so the remote may hold one copy the gateway does not know.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class BackendMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.grade_refusals = Counter(
            "gateway_writeback_grade_refusals_total", "Grades a remote refused for good, by backend and status",
            ["backend", "status"], registry=registry,
        )
        self.waits = Counter(
            "gateway_writeback_waits_total", "Delivery attempts that sent nothing, by backend and reason",
            ["backend", "reason"], registry=registry,
        )
        self.possible_duplicates = Counter(
            "gateway_writeback_possible_duplicates_total",
            "Creations whose answer was lost after they may have reached the remote (not sent again), by backend",
            ["backend"], registry=registry,
        )
