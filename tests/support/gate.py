"""A WSGI wrapper that holds chosen requests until the test lets them through: a remote that is slow on demand.

Unlike an injected failure, a held request is answered by the real app once released, so the remote applies
it (as a slow LMS would): a test can kill or stop the caller while the call is in flight and see what the
remote made of it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

WSGIApp = Any


class Gate:
    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._match: str | None = None
        self._count = 0
        self._release = threading.Event()
        self.held = 0  # requests waiting at the gate now

    def arm(self, match: str, count: int = 1) -> None:
        """Hold the next ``count`` requests whose path contains ``match``."""
        with self._lock:
            self._match, self._count = match, count
            self._release = threading.Event()

    def release(self) -> None:
        with self._lock:
            self._match, self._count = None, 0
            self._release.set()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with self._lock:
            hold = self._match is not None and self._count > 0 and self._match in environ.get("PATH_INFO", "")
            if hold:
                self._count -= 1
                self.held += 1
            release = self._release
        if hold:
            release.wait(timeout=60)  # a bound for a test that forgot to release, not a timing
            with self._lock:
                self.held -= 1
        result: Iterable[bytes] = self.app(environ, start_response)
        return result
