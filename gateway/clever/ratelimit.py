"""Clever's rate limit, kept on our side: a fixed window per bearer token (brief §3.7).

Clever allows 1,200 requests a minute per token and resets the count each minute (not a rolling average).
We count in the same kind of window so a sync slows itself before Clever has to say 429; after a 429 the
token is blocked until the ``X-RateLimit-Reset`` instant Clever gave. Per process: several workers each keep
their own count, and Clever's 429 (which we honour) is the backstop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

# Keys kept before idle ones are forgotten.
MAX_KEYS = 1024


@dataclass
class _Window:
    start: float
    count: int
    blocked_until: float = 0.0


class RateLimiter:
    def __init__(
        self,
        per_window: int,
        *,
        window_seconds: float = 60.0,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        if per_window <= 0:
            raise ValueError("per_window must be positive")
        self._limit = per_window
        self._window = window_seconds
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}

    def acquire(self, key: str) -> float:
        """Take one request slot for ``key``, sleeping while the window is full. Returns seconds slept."""
        slept = 0.0
        while True:
            with self._lock:
                now = self._clock()
                window = self._windows.get(key)
                start = now - (now % self._window)
                if window is None or window.start < start:
                    window = _Window(start, 0, window.blocked_until if window else 0.0)
                    self._windows[key] = window
                    if len(self._windows) > MAX_KEYS:
                        self._forget_idle(start, now)
                if window.blocked_until > now:
                    wait = window.blocked_until - now
                elif window.count < self._limit:
                    window.count += 1
                    return slept
                else:
                    wait = window.start + self._window - now
            self._sleep(wait)
            slept += wait

    @property
    def tracked(self) -> int:
        """How many tokens have a window (each login's token gets one; idle ones are forgotten)."""
        with self._lock:
            return len(self._windows)

    def _forget_idle(self, start: float, now: float) -> None:
        # Every login brings a new token: forget keys idle since an earlier window (the lock is held).
        for key in [k for k, w in self._windows.items() if w.start < start and w.blocked_until <= now]:
            del self._windows[key]

    def block_until(self, key: str, until: float) -> None:
        """Clever said 429: no request for ``key`` until ``until`` (a Unix time)."""
        with self._lock:
            now = self._clock()
            window = self._windows.setdefault(key, _Window(now - (now % self._window), 0))
            window.blocked_until = max(window.blocked_until, until)
