"""The in-process worker of ``gateway serve`` (on the embedded SQLite default), as gunicorn hooks.

It starts in each gunicorn worker process after the app is loaded (``post_worker_init``)
and shares that process's services, so its metrics show on ``/metrics``. On SQLite the
file lock in :mod:`gateway.writeback.guard` lets exactly one of them deliver; the others
wait to take over. On shutdown (``worker_exit``) it stops claiming and finishes in-flight
deliveries within gunicorn's graceful timeout; anything cut short is left to its lease.
Threads are never started in the gunicorn master, which forks.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from gateway.ops.logs import log_event
from gateway.writeback.config import runs_in_process
from gateway.writeback.worker import Worker

log = logging.getLogger("gateway.writeback.embedded")

_EXTENSION = "gateway.outbox_worker"


def post_worker_init(worker: Any) -> None:
    app = getattr(worker, "wsgi", None)
    if app is None:
        return
    services = app.extensions.get("gateway")
    if services is None or not runs_in_process(services.settings):
        return
    outbox_worker = Worker(services)
    thread = outbox_worker.start_thread()
    app.extensions[_EXTENSION] = (outbox_worker, thread)
    log_event(log, logging.INFO, "in-process outbox worker started")


def worker_exit(_server: Any, worker: Any) -> None:
    app = getattr(worker, "wsgi", None)
    running = app.extensions.pop(_EXTENSION, None) if app is not None else None
    if running is None:
        return
    outbox_worker, thread = running
    assert isinstance(outbox_worker, Worker) and isinstance(thread, threading.Thread)
    outbox_worker.stop()
    thread.join(timeout=max(outbox_worker.config.lease_seconds, 1.0))
    if thread.is_alive():
        log_event(log, logging.WARNING, "in-process worker still delivering at exit; leases will expire")
