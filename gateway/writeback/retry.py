"""When to try a delivery again: exponential backoff with full jitter, capped, and the remote's own hint.

Full jitter (a uniform wait between zero and the exponential bound) spreads the retries
of many rows that failed together, so a recovering LMS is not hit by a synchronized wave.
A remote's ``Retry-After``/``X-RateLimit-Reset`` is a floor: we never come back sooner
than it asked, but never later than ``retry_after_max`` either, so one odd header cannot
park a grade for a day.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from gateway.settings import Settings, SettingsError


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float
    cap_seconds: float
    retry_after_max_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        policy = cls(
            max_attempts=settings.writeback_max_attempts,
            base_seconds=settings.writeback_backoff_base_seconds,
            cap_seconds=settings.writeback_backoff_cap_seconds,
            retry_after_max_seconds=settings.writeback_retry_after_max_seconds,
        )
        if policy.max_attempts < 1:
            raise SettingsError("GATEWAY_WRITEBACK_MAX_ATTEMPTS", "must be at least 1")
        if policy.base_seconds <= 0:
            raise SettingsError("GATEWAY_WRITEBACK_BACKOFF_BASE_SECONDS", "must be positive")
        if policy.cap_seconds < policy.base_seconds:
            raise SettingsError("GATEWAY_WRITEBACK_BACKOFF_CAP_SECONDS", "must be at least the backoff base")
        if policy.retry_after_max_seconds < 0:
            raise SettingsError("GATEWAY_WRITEBACK_RETRY_AFTER_MAX_SECONDS", "must not be negative")
        return policy

    def backoff_bound(self, attempt: int) -> float:
        """The upper bound of the wait after failed attempt number ``attempt`` (1-based)."""
        exponent = min(max(attempt, 1) - 1, 62)  # 2**62 already dwarfs any cap; avoid float overflow
        return float(min(self.cap_seconds, self.base_seconds * (2.0**exponent)))

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random | None = None) -> float:
        """Seconds until the next attempt after failed attempt ``attempt``."""
        jittered = (rng or random).uniform(0.0, self.backoff_bound(attempt))  # jitter, not cryptography
        if retry_after is None:
            return jittered
        return max(jittered, min(retry_after, self.retry_after_max_seconds))

    def next_attempt_at(self, now: dt.datetime, attempt: int, retry_after: float | None) -> dt.datetime:
        return now + dt.timedelta(seconds=self.delay(attempt, retry_after))
