"""Polling for a condition that another thread or process makes true: the one way tests wait."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "condition",
               interval: float = 0.02) -> None:
    """Poll ``predicate`` until true; fail after ``timeout`` (a bound for a hung test, not a speed claim)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")
