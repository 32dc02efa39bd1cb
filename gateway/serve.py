"""Run the app under gunicorn, in process, so `gateway serve` needs no separate config file."""

from __future__ import annotations

import functools
import logging
import math
import signal
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from gateway.health import drain_flag
from gateway.ops.logs import log_event
from gateway.runtime import embedded
from gateway.settings import Settings

log = logging.getLogger("gateway.serve")
# What a request in flight when a replica stops may still take, after the drain's grace period.
IN_FLIGHT_SECONDS = 30


class _Server(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
    def __init__(self, factory: Callable[[Settings], Flask], settings: Settings, options: dict[str, Any]) -> None:
        self._factory = factory
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            if key in self.cfg.settings:  # control_socket_disable exists from gunicorn 25.1 on
                self.cfg.set(key, value)

    def load(self) -> Flask:
        return self._factory(self._settings)


def run_server(
    factory: Callable[[Settings], Flask], settings: Settings, *, host: str, port: int, workers: int, threads: int
) -> None:
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "accesslog": None,  # the app writes its own JSON request log, without query strings
        "timeout": 60,
        # gunicorn's master kills what is left this long after SIGTERM: the drain, then the requests in flight.
        "graceful_timeout": math.ceil(settings.shutdown_grace_seconds) + IN_FLIGHT_SECONDS,  # gunicorn wants an int
        # gunicorn's control socket (25.1+) lives at one path per user ($XDG_RUNTIME_DIR/gunicorn.ctl), shared by
        # every instance of that user, and can stop or resize the server: the gateway needs none.
        "control_socket_disable": True,
    }
    # The in-process worker (embedded SQLite default) lives in each gunicorn worker process.
    options.update(post_worker_init=functools.partial(_post_worker_init, settings.shutdown_grace_seconds),
                   worker_exit=embedded.worker_exit)
    _Server(factory, settings, options).run()


def _post_worker_init(grace_seconds: float, worker: Any) -> None:
    embedded.post_worker_init(worker)
    drain_on_sigterm(worker, grace_seconds)


def drain_on_sigterm(worker: Any, grace_seconds: float) -> None:
    """SIGTERM first sets the draining flag (``/readyz`` answers 503) and, ``grace_seconds`` later, begins
    gunicorn's own graceful stop: no new connections, requests in flight finish. Runs in the gunicorn worker,
    after gunicorn installed its handlers (SIGINT and SIGQUIT still stop at once)."""
    app = getattr(worker, "wsgi", None)
    if app is None:
        return
    flag = drain_flag(app.extensions)
    stop = worker.handle_exit

    def on_sigterm(signum: int, frame: Any) -> None:
        if flag.is_set():
            return
        flag.set()
        log_event(log, logging.INFO, "draining: /readyz answers 503; still serving", grace_seconds=grace_seconds)
        timer = threading.Timer(grace_seconds, stop, args=(signum, None))
        timer.daemon = True
        timer.start()

    signal.signal(signal.SIGTERM, on_sigterm)
