"""The runtime: workers that claim work under leases, and periodic jobs run once per interval across workers.

Every feature's background work runs here: writeback's outbox deliveries are a :class:`WorkSource`, and Clever
sync, purges and housekeeping are :class:`PeriodicJob` s. ``gateway worker`` runs a :class:`Worker` in its own
process; ``gateway serve`` on the embedded SQLite default runs one in-process (:mod:`.embedded`). The runtime
knows no feature: the composition root hands it the sources and jobs.
"""

from __future__ import annotations

from gateway.runtime.config import WorkerConfig, runs_in_process
from gateway.runtime.guard import WorkerGuard, sqlite_lock_path
from gateway.runtime.jobs import PeriodicJob
from gateway.runtime.metrics import RuntimeMetrics
from gateway.runtime.worker import Worker, WorkSource, worker_owner

__all__ = [
    "PeriodicJob",
    "RuntimeMetrics",
    "WorkSource",
    "Worker",
    "WorkerConfig",
    "WorkerGuard",
    "runs_in_process",
    "sqlite_lock_path",
    "worker_owner",
]
