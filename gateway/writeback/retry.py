"""When to try a delivery again: exponential backoff with full jitter, capped, and the remote's own hint.

Full jitter (a uniform wait between zero and the exponential bound) spreads the retries
of many rows that failed together, so a recovering LMS is not hit by a synchronized wave.
A remote's ``Retry-After``/``X-RateLimit-Reset`` is a floor: we never come back sooner
than it asked, but never later than ``retry_after_max`` either, so one odd header cannot
park a grade for a day. Which answers are retried, and the hint itself, are :mod:`gateway.retry`'s rule;
the knobs are read and checked by :class:`gateway.writeback.config.WritebackConfig`.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from gateway.retry import backoff_bound


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float
    cap_seconds: float
    retry_after_max_seconds: float

    def backoff_bound(self, attempt: int) -> float:
        """The upper bound of the wait after failed attempt number ``attempt`` (1-based)."""
        return backoff_bound(attempt, self.base_seconds, self.cap_seconds)

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random | None = None) -> float:
        """Seconds until the next attempt after failed attempt ``attempt``."""
        jittered = (rng or random).uniform(0.0, self.backoff_bound(attempt))  # jitter, not cryptography
        if retry_after is None:
            return jittered
        return max(jittered, min(retry_after, self.retry_after_max_seconds))

    def next_attempt_at(self, now: dt.datetime, attempt: int, retry_after: float | None) -> dt.datetime:
        return now + dt.timedelta(seconds=self.delay(attempt, retry_after))
