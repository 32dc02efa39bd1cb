"""Run the features' periodic jobs from workers, each job once per interval however many workers run.

A row per job in ``job_leases`` says who runs it and when it last started. A worker
takes a due job with one compare-and-set UPDATE (no live lease, last start an interval
ago), runs it on its own thread so deliveries keep flowing, renews the lease while it
runs, and releases it with the outcome. A worker that dies mid-job leaves a lease that
expires; the next due check on any worker runs the job again, so jobs must be safe to
repeat (they are housekeeping and syncs).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Sequence

from sqlalchemy.exc import SQLAlchemyError

from gateway.ops.logs import log_event
from gateway.runtime.jobs import PeriodicJob
from gateway.runtime.metrics import RuntimeMetrics
from gateway.store import Database
from gateway.store.models.base import utcnow
from gateway.store.repositories.outbox_jobs import JobLeaseRepository

log = logging.getLogger("gateway.runtime.scheduler")


class JobScheduler:
    def __init__(
        self,
        db: Database,
        jobs: Callable[[], Sequence[PeriodicJob]],
        *,
        owner: str,
        lease_seconds: float,
        metrics: RuntimeMetrics,
    ) -> None:
        self._db = db
        self._jobs = jobs
        self._owner = owner
        self._lease = dt.timedelta(seconds=lease_seconds)
        self._metrics = metrics
        self._next_check: dict[str, float] = {}
        self._lock = threading.Lock()
        self._running: tuple[PeriodicJob, threading.Thread] | None = None
        self._ensured: set[str] = set()

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._running is not None

    def tick(self) -> None:
        """Start the first due job this worker can take (one at a time per worker)."""
        if self.busy:
            return
        clock = time.monotonic()
        for job in self._jobs():
            if clock < self._next_check.get(job.name, 0.0):
                continue
            # Look again after half an interval (at most 30 s): another worker may have run it meanwhile.
            self._next_check[job.name] = clock + max(min(job.interval_seconds, 60.0) / 2, 0.01)
            if self._acquire(job):
                thread = threading.Thread(target=self._run, args=(job,), name=f"job-{job.name}", daemon=True)
                with self._lock:
                    self._running = (job, thread)
                thread.start()
                return

    def _acquire(self, job: PeriodicJob) -> bool:
        now = utcnow()
        try:
            if job.name not in self._ensured:
                with self._db.transaction() as s:
                    JobLeaseRepository(s).ensure(job.name)
                self._ensured.add(job.name)
            with self._db.transaction() as s:
                return JobLeaseRepository(s).acquire(
                    job.name, owner=self._owner, now=now, lease_until=now + self._lease,
                    interval=dt.timedelta(seconds=job.interval_seconds),
                )
        except SQLAlchemyError as e:
            log_event(log, logging.WARNING, "periodic job lease not taken", exc_info=e, job=job.name)
            return False

    def _run(self, job: PeriodicJob) -> None:
        error: str | None = None
        try:
            job.run()
        except Exception as e:  # a failing job must not take the worker down; it runs again next interval
            error = type(e).__name__
            log_event(log, logging.ERROR, "periodic job failed", exc_info=e, job=job.name)
        self._metrics.jobs.labels(job=job.name, outcome="error" if error else "ok").inc()
        try:
            with self._db.transaction() as s:
                JobLeaseRepository(s).release(job.name, owner=self._owner, now=utcnow(), error=error)
        except SQLAlchemyError:
            log_event(log, logging.WARNING, "periodic job lease left to expire", job=job.name)
        finally:
            with self._lock:
                self._running = None

    def renew(self) -> None:
        with self._lock:
            running = self._running
        if running is None:
            return
        try:
            with self._db.transaction() as s:
                JobLeaseRepository(s).renew(running[0].name, owner=self._owner, lease_until=utcnow() + self._lease)
        except SQLAlchemyError:
            log_event(log, logging.WARNING, "periodic job lease not renewed", job=running[0].name)

    def join(self, timeout: float) -> bool:
        """Wait for a running job; False if it is still running after ``timeout``."""
        with self._lock:
            running = self._running
        if running is None:
            return True
        running[1].join(timeout)
        return not running[1].is_alive()
