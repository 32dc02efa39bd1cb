"""Polling for a condition that another thread or process makes true: the one way tests wait."""

from __future__ import annotations

import time
from collections.abc import Callable

import requests


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "condition",
               interval: float = 0.02) -> None:
    """Poll ``predicate`` until true; fail after ``timeout`` (a bound for a hung test, not a speed claim)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def ready(url: str) -> bool:
    """Whether the gateway at ``url`` says it is ready. A slow answer (a busy machine, a server still starting) is
    "not yet", like a refused connection: the caller's :func:`wait_until` bounds the wait, not one probe."""
    try:
        return requests.get(url + "/readyz", timeout=5).status_code == 200
    except requests.RequestException:
        return False
