"""Real HTTP servers on loopback for tests: the gateway, the simulated platforms, anything WSGI."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

WSGIApp = Callable[..., Any]


class LiveServer:
    """A threaded WSGI server on an ephemeral loopback port, started and stopped by the test."""

    def __init__(self, app: WSGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True)
        self.host = host
        self.port = self._server.server_port
        # A short poll interval: shutdown() waits for the loop to notice, and tests stop many servers.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"live-{self.port}", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def set_app(self, app: WSGIApp) -> None:
        """Swap the app before start: the port is bound at construction, so settings can name the URL first."""
        self._server.app = app

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def reserve_port(host: str = "127.0.0.1") -> int:
    """A free port, for servers whose URL must be known before they start (settings that name themselves)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
