"""Prometheus metrics of the runtime, on the app's registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class RuntimeMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.jobs = Counter(
            "gateway_periodic_job_runs_total", "Periodic job runs by job and outcome", ["job", "outcome"],
            registry=registry,
        )
