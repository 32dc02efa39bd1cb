"""Run the app under gunicorn, in process, so `gateway serve` needs no separate config file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from gateway.runtime import embedded
from gateway.settings import Settings


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
        "graceful_timeout": 30,
        # gunicorn's control socket (25.1+) lives at one path per user ($XDG_RUNTIME_DIR/gunicorn.ctl), shared by
        # every instance of that user, and can stop or resize the server: the gateway needs none.
        "control_socket_disable": True,
    }
    # The in-process worker (embedded SQLite default) lives in each gunicorn worker process.
    options.update(post_worker_init=embedded.post_worker_init, worker_exit=embedded.worker_exit)
    _Server(factory, settings, options).run()
