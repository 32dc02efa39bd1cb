"""The in-process worker of ``gateway serve`` (on the embedded SQLite default), as gunicorn hooks.

It starts in each gunicorn worker process after the app is loaded (``post_worker_init``) and shares that
process's services, so its metrics show on ``/metrics``: the app factory leaves a worker factory in
``app.extensions[WORKER_FACTORY]`` when this process should run one. On SQLite the file lock in
:mod:`gateway.runtime.guard` lets exactly one of them work; the others wait to take over. On shutdown
(``worker_exit``) it stops claiming and finishes in-flight work within gunicorn's graceful timeout; anything
cut short is left to its lease. Threads are never started in the gunicorn master, which forks.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from gateway.ops.logs import log_event
from gateway.runtime.worker import Worker

log = logging.getLogger("gateway.runtime.embedded")

WORKER_FACTORY = "gateway.worker_factory"
_RUNNING = "gateway.outbox_worker"


def post_worker_init(worker: Any) -> None:
    app = getattr(worker, "wsgi", None)
    if app is None:
        return
    factory: Callable[[], Worker] | None = app.extensions.get(WORKER_FACTORY)
    if factory is None:
        return
    in_process = factory()
    thread = in_process.start_thread()
    app.extensions[_RUNNING] = (in_process, thread)
    log_event(log, logging.INFO, "in-process outbox worker started")


def worker_exit(_server: Any, worker: Any) -> None:
    app = getattr(worker, "wsgi", None)
    running = app.extensions.pop(_RUNNING, None) if app is not None else None
    if running is None:
        return
    in_process, thread = running
    assert isinstance(in_process, Worker) and isinstance(thread, threading.Thread)
    in_process.stop()
    thread.join(timeout=max(in_process.config.lease_seconds, 1.0))
    if thread.is_alive():
        log_event(log, logging.WARNING, "in-process worker still delivering at exit; leases will expire")
