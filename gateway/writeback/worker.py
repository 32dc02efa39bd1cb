"""The outbox worker: claim due rows under a lease, deliver them on N threads, run periodic jobs.

Loop: renew the leases of in-flight rows (every third of a lease), claim as many rows
as there are free delivery threads, start due periodic jobs, then sleep until a
delivery finishes or the poll interval passes. :meth:`Worker.stop` stops claiming;
``run`` returns once every in-flight delivery has been recorded (that is what SIGTERM
does, see :mod:`gateway.writeback.cli`). A worker killed outright loses nothing: its
leases expire and any worker claims the rows again, counting the attempt.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from gateway.bootstrap import Services
from gateway.ops.logs import log_event
from gateway.store.models.base import utcnow
from gateway.store.repositories.outbox import OutboxRepository
from gateway.writeback.attempt import Attempter, Claim
from gateway.writeback.config import WorkerConfig
from gateway.writeback.guard import WorkerGuard, sqlite_lock_path
from gateway.writeback.scheduler import JobScheduler

log = logging.getLogger("gateway.writeback.worker")

BURIED_DETAIL = "the worker holding it stopped during its last attempt (lease expired)"


def worker_owner() -> str:
    """Unique per worker object: host, process, and a random tag (two workers in one process differ)."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{secrets.token_hex(4)}"


class Worker:
    def __init__(self, services: Services, *, concurrency: int | None = None, owner: str | None = None) -> None:
        self._svc = services
        self.config = WorkerConfig.from_settings(services.settings, concurrency)
        self.owner = owner or worker_owner()
        self._metrics = services.outbox.metrics
        self._attempter = Attempter(services.db, services.outbox, services.delivery_backends, self._metrics, self.owner)
        self._scheduler = JobScheduler(
            services.db, lambda: list(services.periodic_jobs), owner=self.owner,
            lease_seconds=self.config.lease_seconds, metrics=self._metrics,
        )
        self._guard = WorkerGuard(sqlite_lock_path(services.settings.database_url))
        self._stopping = threading.Event()
        self._active = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._inflight: dict[tuple[int, int], float] = {}  # (seq, attempt) -> monotonic start
        self._last_heartbeat = 0.0

    # -- control ---------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop claiming; ``run`` returns after the in-flight deliveries are recorded. Not for signal handlers."""
        self._stopping.set()
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    @property
    def active(self) -> bool:
        """Claiming rows now (on SQLite: holding the one-worker lock)."""
        return self._active.is_set()

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="outbox-worker", daemon=True)
        thread.start()
        return thread

    # -- loop ------------------------------------------------------------------------------------

    def run(self) -> None:
        if not self._wait_for_guard():
            return
        self._active.set()
        log_event(log, logging.INFO, "worker started", owner=self.owner, concurrency=self.config.concurrency)
        pool = ThreadPoolExecutor(max_workers=self.config.concurrency, thread_name_prefix="deliver")
        try:
            while not self._stopping.is_set():
                claimed, free = self._cycle(pool)
                if claimed and free:
                    continue  # there may be more due rows: claim again at once
                self._sleep(self.config.poll_seconds)
            while self._inflight_count():
                self._heartbeat()
                self._sleep(min(self.config.poll_seconds, self.config.lease_seconds / 3))
        finally:
            pool.shutdown(wait=True)
            if not self._scheduler.join(timeout=self.config.lease_seconds):
                log_event(log, logging.WARNING, "periodic job still running at stop; its lease will expire")
            self._guard.release()
            self._active.clear()
            log_event(log, logging.INFO, "worker stopped", owner=self.owner)

    def _wait_for_guard(self) -> bool:
        told = False
        while not self._stopping.is_set():
            if self._guard.acquire():
                return True
            if not told:
                log_event(log, logging.INFO, "another worker serves this SQLite database; waiting for it to stop")
                told = True
            self._sleep(max(self.config.poll_seconds, 0.5))
        return False

    def _sleep(self, seconds: float) -> None:
        self._wake.wait(seconds)
        self._wake.clear()

    def _cycle(self, pool: ThreadPoolExecutor) -> tuple[int, int]:
        """One pass: heartbeat when due, claim and submit, start due jobs. Returns (claimed, free slots left)."""
        try:
            if time.monotonic() - self._last_heartbeat >= self.config.lease_seconds / 3:
                self._heartbeat()
            claims = self._claim(self.config.concurrency - self._inflight_count())
            for claim in claims:
                with self._lock:
                    self._inflight[(claim.seq, claim.attempts)] = time.monotonic()
                pool.submit(self._deliver, claim)
            self._scheduler.tick()
            return len(claims), self.config.concurrency - self._inflight_count()
        except Exception as e:  # the database may be away for a while; keep the worker alive and say so
            log.error("worker cycle failed", exc_info=e)
            self._sleep(max(self.config.poll_seconds, 1.0))
            return 0, 0

    def _claim(self, free: int) -> list[Claim]:
        backends = sorted(self._svc.delivery_backends)
        if free <= 0 or not backends:
            return []
        now = utcnow()
        with self._svc.db.transaction() as s:
            rows = OutboxRepository(s).claim(
                owner=self.owner, backends=backends, now=now,
                lease_until=now + dt.timedelta(seconds=self.config.lease_seconds), limit=free,
            )
            return [Claim.of(row) for row in rows]

    def _deliver(self, claim: Claim) -> None:
        try:
            self._attempter.run(claim)
        finally:
            with self._lock:
                self._inflight.pop((claim.seq, claim.attempts), None)
            self._wake.set()

    def _inflight_count(self) -> int:
        with self._lock:
            return len(self._inflight)

    def _heartbeat(self) -> None:
        """Renew in-flight leases (not for deliveries stuck past the limit), job leases; bury orphans."""
        self._last_heartbeat = time.monotonic()
        clock = time.monotonic()
        with self._lock:
            live = [seq for (seq, _), started in self._inflight.items()
                    if clock - started < self.config.max_delivery_seconds]
        now = utcnow()
        try:
            with self._svc.db.transaction() as s:
                repo = OutboxRepository(s)
                until = now + dt.timedelta(seconds=self.config.lease_seconds)
                repo.renew(owner=self.owner, seqs=live, lease_until=until)
                buried = repo.bury_exhausted(now, BURIED_DETAIL)
        except Exception as e:
            log.error("lease renewal failed", exc_info=e)
            return
        for delivery_id, backend, kind in buried:
            log_event(log, logging.WARNING, "delivery dead after its worker stopped", delivery_id=delivery_id)
            self._metrics.outcomes.labels(backend=backend, kind=kind, outcome="dead", status="none").inc()
        self._scheduler.renew()
