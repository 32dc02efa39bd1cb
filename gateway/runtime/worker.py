"""The worker: claim due work under a lease, run it on N threads, run periodic jobs.

Loop: renew the leases of in-flight work (every third of a lease), claim as much work as there
are free threads, start due periodic jobs, then sleep until an item finishes or the poll
interval passes. :meth:`Worker.stop` stops claiming; ``run`` returns once every in-flight item
has been recorded (that is what SIGTERM does). A worker killed outright loses nothing: its
leases expire and any worker claims the work again. What is claimed, and how it is run, is the
:class:`WorkSource`'s business (writeback's outbox is one); the worker knows no feature.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from gateway.ops.logs import log_event
from gateway.runtime.config import WorkerConfig
from gateway.runtime.guard import WorkerGuard
from gateway.runtime.jobs import PeriodicJob
from gateway.runtime.metrics import RuntimeMetrics
from gateway.runtime.scheduler import JobScheduler
from gateway.store import Database
from gateway.store.models.base import utcnow

log = logging.getLogger("gateway.runtime.worker")


class WorkSource(Protocol):
    """Work that workers claim under a lease (writeback's outbox). Items are opaque to the worker."""

    def claim(self, owner: str, limit: int, lease_until: dt.datetime) -> Sequence[Any]:
        """Claim up to ``limit`` due items for ``owner``, leased until ``lease_until``; commit the claim."""
        ...

    def key(self, item: Any) -> Hashable:
        """What identifies one claimed attempt of an item (for the in-flight table)."""
        ...

    def run(self, item: Any) -> None:
        """Run one claimed item and record its outcome; must not raise for the item's own failures."""
        ...

    def heartbeat(self, owner: str, live: Sequence[Any], lease_until: dt.datetime) -> None:
        """Renew the leases of ``live`` items and reclaim what dead workers left behind."""
        ...


def worker_owner() -> str:
    """Unique per worker object: host, process, and a random tag (two workers in one process differ)."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{secrets.token_hex(4)}"


class Worker:
    def __init__(
        self,
        config: WorkerConfig,
        *,
        db: Database,
        source: WorkSource | None,
        jobs: Callable[[], Sequence[PeriodicJob]],
        guard: WorkerGuard,
        metrics: RuntimeMetrics,
        owner: str,
    ) -> None:
        self.config = config
        self.owner = owner
        self.source = source
        self._scheduler = JobScheduler(db, jobs, owner=owner, lease_seconds=config.lease_seconds, metrics=metrics)
        self._guard = guard
        self._stopping = threading.Event()
        self._active = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._inflight: dict[Hashable, tuple[Any, float]] = {}  # source key -> (item, monotonic start)
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
            items = self._claim(self.config.concurrency - self._inflight_count())
            for item in items:
                with self._lock:
                    self._inflight[self._key(item)] = (item, time.monotonic())
                pool.submit(self._run_item, item)
            self._scheduler.tick()
            return len(items), self.config.concurrency - self._inflight_count()
        except Exception as e:  # the database may be away for a while; keep the worker alive and say so
            log_event(log, logging.ERROR, "worker cycle failed", exc_info=e)
            self._sleep(max(self.config.poll_seconds, 1.0))
            return 0, 0

    def _key(self, item: Any) -> Hashable:
        assert self.source is not None
        return self.source.key(item)

    def _claim(self, free: int) -> Sequence[Any]:
        if free <= 0 or self.source is None:
            return []
        return self.source.claim(self.owner, free, utcnow() + dt.timedelta(seconds=self.config.lease_seconds))

    def _run_item(self, item: Any) -> None:
        try:
            assert self.source is not None
            self.source.run(item)
        finally:
            with self._lock:
                self._inflight.pop(self._key(item), None)
            self._wake.set()

    def _inflight_count(self) -> int:
        with self._lock:
            return len(self._inflight)

    def _heartbeat(self) -> None:
        """Renew in-flight leases (not for items stuck past the limit) and job leases; reclaim orphans."""
        self._last_heartbeat = time.monotonic()
        clock = time.monotonic()
        with self._lock:
            live = [item for item, started in self._inflight.values()
                    if clock - started < self.config.max_delivery_seconds]
        if self.source is not None:
            try:
                self.source.heartbeat(self.owner, live, utcnow() + dt.timedelta(seconds=self.config.lease_seconds))
            except Exception as e:  # the database may be away; the next heartbeat tries again
                log_event(log, logging.ERROR, "lease renewal failed", exc_info=e)
                return
        self._scheduler.renew()
