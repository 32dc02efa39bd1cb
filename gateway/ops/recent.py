"""Counts by key over the last day, kept in memory in minute buckets: windowed numbers for what is never stored.

A refused launch stores nothing (by design), so an operator's "refusals in the last hour" cannot come from the
database; a Prometheus counter only knows "since the process started". This tally answers "since N seconds ago" for
one process, to the minute, and forgets what is older than its span.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

BUCKET_SECONDS = 60


class RecentTally:
    def __init__(self, span_seconds: float = 86400, clock: Callable[[], float] = time.time) -> None:
        self._span = span_seconds
        self._clock = clock
        self._buckets: dict[int, Counter[str]] = {}
        self._lock = threading.Lock()

    def add(self, key: str, n: int = 1) -> None:
        minute = int(self._clock() // BUCKET_SECONDS)
        with self._lock:
            self._buckets.setdefault(minute, Counter())[key] += n
            oldest = minute - int(self._span // BUCKET_SECONDS)
            for stale in [m for m in self._buckets if m < oldest]:
                del self._buckets[stale]

    def since(self, seconds: float) -> dict[str, int]:
        """Counts by key in the minutes that overlap the last ``seconds`` (at most the span), sorted by key."""
        first = int((self._clock() - min(seconds, self._span)) // BUCKET_SECONDS)
        total: Counter[str] = Counter()
        with self._lock:
            for minute, counts in self._buckets.items():
                if minute >= first:
                    total.update(counts)
        return dict(sorted(total.items()))
