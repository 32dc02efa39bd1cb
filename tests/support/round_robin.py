"""A tiny round-robin load balancer for tests: each request goes to the next backend, over a new connection.

It stands where a deployment's load balancer stands, in front of ``gateway serve`` replicas that share one
public URL (the proxy's). Per request, not per connection: a browser's keep-alive connection does not pin it
to one replica, so a login and the launch after it can land on different replicas. It records which backend
answered each path, so tests can show that both replicas did the work.
"""

from __future__ import annotations

import http.client
import itertools
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from tests.support.live import LiveServer

# Hop-by-hop headers (RFC 9110 §7.6.1) and those the WSGI server sets itself.
_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "content-length", "date", "server"}


class RoundRobin:
    def __init__(self, backends: list[str], timeout: float = 60.0) -> None:
        self.backends = backends
        self._next = itertools.cycle(range(len(backends)))
        self._lock = threading.Lock()
        self._timeout = timeout
        self.answered: list[tuple[str, int]] = []  # (path, backend index), in the order answered

    def _pick(self) -> int:
        with self._lock:
            return next(self._next)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        index = self._pick()
        target = urlsplit(self.backends[index])
        path = environ.get("PATH_INFO", "/")
        query = environ.get("QUERY_STRING", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else None
        headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items()
                   if key.startswith("HTTP_") and key[5:].replace("_", "-").lower() not in _HOP}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=self._timeout)
        try:
            conn.request(environ["REQUEST_METHOD"], path + ("?" + query if query else ""), body=body,
                         headers=headers)
            answer = conn.getresponse()
            payload = answer.read()
        except OSError:
            start_response("502 Bad Gateway", [("Content-Type", "text/plain")])
            return [b"backend unreachable"]
        finally:
            conn.close()
        with self._lock:
            self.answered.append((path, index))
        kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in _HOP]
        start_response(f"{answer.status} {answer.reason}", [*kept, ("Content-Length", str(len(payload)))])
        return [payload]

    def served_by(self, path_prefix: str) -> set[int]:
        with self._lock:
            return {index for path, index in self.answered if path.startswith(path_prefix)}


def start_round_robin(port: int, backends: list[str]) -> tuple[RoundRobin, LiveServer]:
    balancer = RoundRobin(backends)
    return balancer, LiveServer(balancer, port=port).start()
