"""The one client layer for outbound HTTP.

Every call the gateway makes to a platform, to Clever or to anything else goes
through :class:`HttpClient`: a timeout on every request, a ``system`` label for
metrics, and failures turned into :class:`OutboundError` with a reason
(``timeout``, ``connection``, ``status``) so callers decide how to retry.
Retry policy belongs to the caller, because it depends on what is being sent.
"""

from __future__ import annotations

import time
from typing import Any

import requests

from gateway.ops.metrics import Metrics


class OutboundError(Exception):
    """An outbound call failed before a response arrived (timeout, refused connection, bad TLS)."""

    def __init__(self, system: str, reason: str, message: str) -> None:
        super().__init__(f"{system}: {reason}: {message}")
        self.system = system
        self.reason = reason


class HttpClient:
    def __init__(self, metrics: Metrics, *, timeout: float, user_agent: str = "gateway/0.1") -> None:
        self._metrics = metrics
        self._timeout = timeout
        self._session = requests.Session()
        self._session.headers["User-Agent"] = user_agent

    def request(
        self,
        system: str,
        method: str,
        url: str,
        *,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send one request with a timeout. Raises :class:`OutboundError` when no response arrives."""
        started = time.perf_counter()
        try:
            response = self._session.request(method, url, timeout=timeout or self._timeout, **kwargs)
        except requests.Timeout as e:
            self._metrics.outbound_failures.labels(system=system, reason="timeout").inc()
            raise OutboundError(system, "timeout", f"{method} {url} timed out") from e
        except requests.ConnectionError as e:
            self._metrics.outbound_failures.labels(system=system, reason="connection").inc()
            raise OutboundError(system, "connection", f"{method} {url} could not connect") from e
        except requests.RequestException as e:
            self._metrics.outbound_failures.labels(system=system, reason="request").inc()
            raise OutboundError(system, "request", f"{method} {url} failed") from e
        finally:
            self._metrics.outbound_seconds.labels(system=system).observe(time.perf_counter() - started)
        self._metrics.outbound_responses.labels(system=system, status=str(response.status_code)).inc()
        return response

    def get(self, system: str, url: str, **kwargs: Any) -> requests.Response:
        return self.request(system, "GET", url, **kwargs)

    def post(self, system: str, url: str, **kwargs: Any) -> requests.Response:
        return self.request(system, "POST", url, **kwargs)

    def close(self) -> None:
        self._session.close()
