"""A tiny load harness: N requests from a few threads against a live server, with percentiles."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    name: str
    requests: int
    seconds: float
    latencies_ms: list[float]

    def line(self) -> str:
        lat = sorted(self.latencies_ms)
        p50 = statistics.median(lat)
        p95 = lat[int(len(lat) * 0.95) - 1]
        p99 = lat[int(len(lat) * 0.99) - 1]
        return (
            f"{self.name:<32} {self.requests:>6} req  {self.requests / self.seconds:>8.1f} req/s  "
            f"p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  p99 {p99:6.2f} ms"
        )


def run(name: str, call: Callable[[int], None], *, total: int, threads: int = 4) -> Result:
    """Run ``call(i)`` for i in range(total) across ``threads`` threads; each call is one timed operation."""
    latencies: list[float] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    counter = iter(range(total))

    def worker() -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            started = time.perf_counter()
            try:
                call(i)
            except Exception as e:  # reported after the run: a benchmark of failures measures nothing
                with lock:
                    failures.append(e)
                return
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if failures:
        raise RuntimeError(f"{len(failures)} of {total} operations failed in {name!r}") from failures[0]
    return Result(name, total, time.perf_counter() - started, latencies)
