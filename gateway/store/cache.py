"""A read cache over rows that change rarely (registrations, deployments, API keys, tool keys).

Two rules bound how stale an entry can be:

* a commit in this process that wrote one of the cache's tables empties it at once (see
  :meth:`gateway.store.db.Database.watch`), so a change made through this process is seen by its next request;
* any other entry lives ``ttl`` seconds, so a change made by another process (a replica, a worker, the CLI)
  is seen everywhere within ``ttl`` seconds (``GATEWAY_CACHE_SECONDS``).

Misses are not cached: a registration added a moment ago is found on the next request. A load that raced a
commit is not kept (the generation check), so an invalidation is never undone by a slow reader.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

from gateway.store.db import Database

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ReadCache(Generic[K, V]):
    def __init__(
        self,
        db: Database,
        tables: Iterable[str],
        *,
        ttl_seconds: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._entries: dict[K, tuple[float, V]] = {}
        self._generation = 0
        self._lock = threading.Lock()
        db.watch(tables, self.clear)

    def get(self, key: K, load: Callable[[], V | None]) -> V | None:
        """The cached value for ``key``, or ``load()``'s answer (kept when not None)."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                return entry[1]
            generation = self._generation
        value = load()
        if value is None or self._ttl <= 0:
            return value
        with self._lock:
            if generation == self._generation:
                if len(self._entries) >= self._max:
                    self._entries.clear()  # a bound, not an eviction policy: the working set is far smaller
                self._entries[key] = (now + self._ttl, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1
