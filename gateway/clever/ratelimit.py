"""Clever's rate limit, kept on our side: a fixed window per bearer token (Clever's API docs, "Rate Limiting").

Clever allows 1,200 requests a minute per token and resets the count each minute (not a rolling average).
We count in the same kind of window so a sync slows itself before Clever has to say 429; after a 429 (or an
answer saying ``X-RateLimit-Remaining: 0``) the token is blocked until the ``X-RateLimit-Reset`` instant Clever
gave.

Two implementations of one interface (:class:`TokenBudget`):

* :class:`StoreRateLimiter`, what the gateway uses: the budget lives in the database (``clever_rate_budgets``, a
  row per token digest), so every process of the deployment (workers, replicas, the CLI) and every client in it
  (sync, writeback, logins) draws from **one** budget per token, and a 429 seen by one blocks them all.
* :class:`RateLimiter`, in memory, for one process (tests, tools).

A call that would have to wait longer than its caller allows (``max_wait``) is not made: :class:`BudgetExhausted`
says how long until it could be.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from gateway.store import Database
from gateway.store.repositories.clever_budget import CleverRateBudgetRepository

# Keys kept before idle ones are forgotten (in memory).
MAX_KEYS = 1024
# Rows of tokens idle this long are forgotten by housekeeping (every login's token gets one).
IDLE_SECONDS = 3600.0


class BudgetExhausted(Exception):  # a condition, not an error of the caller
    """The token's budget allows no call for ``wait`` seconds, longer than the caller may wait."""

    def __init__(self, wait: float, *, blocked: bool) -> None:
        super().__init__(f"no call for {wait:.1f} s")
        self.wait = wait
        self.blocked = blocked  # True: Clever said stop (429); False: our own window is spent


class TokenBudget(Protocol):
    def acquire(self, key: str, max_wait: float | None = None) -> float:
        """Take one call for ``key``, sleeping while it must wait (at most ``max_wait`` s, else
        :class:`BudgetExhausted`). Returns seconds slept."""
        ...

    def block_until(self, key: str, until: float) -> None:
        """Clever said stop: no call for ``key`` before ``until`` (a Unix time), in any process."""
        ...


def _window_start(now: float, window: float) -> float:
    return now - (now % window)


class _FixedWindow:
    """What both budgets share: ``per_window`` calls a window of ``window_seconds``, on a clock and a sleep."""

    def __init__(self, per_window: int, *, window_seconds: float, clock: Callable[[], float],
                 sleep: Callable[[float], None]) -> None:
        if per_window <= 0:
            raise ValueError("per_window must be positive")
        self._limit = per_window
        self._window = window_seconds
        self._clock = clock
        self._sleep = sleep

    @property
    def per_window(self) -> int:
        return self._limit


@dataclass
class _Window:
    start: float
    count: int
    blocked_until: float = 0.0


class RateLimiter(_FixedWindow):
    """One process's budget, in memory."""

    def __init__(self, per_window: int, *, window_seconds: float = 60.0, clock: Callable[[], float],
                 sleep: Callable[[float], None]) -> None:
        super().__init__(per_window, window_seconds=window_seconds, clock=clock, sleep=sleep)
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}

    def acquire(self, key: str, max_wait: float | None = None) -> float:
        slept = 0.0
        while True:
            with self._lock:
                now = self._clock()
                window = self._windows.get(key)
                start = _window_start(now, self._window)
                if window is None or window.start < start:
                    window = _Window(start, 0, window.blocked_until if window else 0.0)
                    self._windows[key] = window
                    if len(self._windows) > MAX_KEYS:
                        self._forget_idle(start, now)
                blocked = window.blocked_until > now
                if blocked:
                    wait = window.blocked_until - now
                elif window.count < self._limit:
                    window.count += 1
                    return slept
                else:
                    wait = window.start + self._window - now
            if max_wait is not None and wait > max_wait:
                raise BudgetExhausted(wait, blocked=blocked)
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
        with self._lock:
            now = self._clock()
            window = self._windows.setdefault(key, _Window(_window_start(now, self._window), 0))
            window.blocked_until = max(window.blocked_until, until)


class StoreRateLimiter(_FixedWindow):
    """The deployment's budget: a row per token in the database, spent and blocked atomically.

    Each call is one short transaction of its own (it must commit before the call to Clever, whatever the
    caller does next), so it is used only outside the caller's transactions, as every Clever call is.
    """

    def __init__(self, db: Database, per_window: int, *, window_seconds: float = 60.0, clock: Callable[[], float],
                 sleep: Callable[[float], None]) -> None:
        super().__init__(per_window, window_seconds=window_seconds, clock=clock, sleep=sleep)
        self._db = db

    def acquire(self, key: str, max_wait: float | None = None) -> float:
        slept = 0.0
        while True:
            now = self._clock()
            start = _window_start(now, self._window)
            with self._db.transaction() as s:
                repo = CleverRateBudgetRepository(s)
                if repo.take(key, window_start=start, limit=self._limit, now=now):
                    return slept
                budget = repo.get(key)
                if budget is None:
                    repo.ensure(key, window_start=start)
            if budget is None:
                continue  # the token's first call: its row exists now
            blocked = budget.blocked_until > now
            if blocked:
                wait = budget.blocked_until - now
            elif budget.window_start >= start and budget.used >= self._limit:
                wait = budget.window_start + self._window - now
            else:
                continue  # changed under us (a new window began): try again
            if max_wait is not None and wait > max_wait:
                raise BudgetExhausted(wait, blocked=blocked)
            self._sleep(wait)
            slept += wait

    def block_until(self, key: str, until: float) -> None:
        now = self._clock()
        with self._db.transaction() as s:
            CleverRateBudgetRepository(s).block(key, until=until, window_start=_window_start(now, self._window))

    def purge_idle(self) -> int:
        """Forget the rows of tokens idle for an hour (housekeeping)."""
        now = self._clock()
        with self._db.transaction() as s:
            return CleverRateBudgetRepository(s).purge(idle_before=now - IDLE_SECONDS, now=now)
