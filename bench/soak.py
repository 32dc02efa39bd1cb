"""``make soak``: one gateway launching without pause for ``--minutes``, its web workers' RSS sampled each minute.

Opt-in (ten minutes by default), never part of ``make test`` or ``make bench``. Flat means the largest worker grew
less than 5 MB from the end of the first minute (imports, caches and the allocator's first arenas settle then) to
the end of the run.
"""

from __future__ import annotations

from bench import launch
from bench.loadgen import Job
from bench.world import world

FLAT_MB = 5.0


def run(engine: str, minutes: float, students: int, concurrency: int, processes: int) -> str:
    rows = ["| minute | launches | launches/s | errors | web worker RSS, MB | database bytes |",
            "|---|---|---|---|---|---|"]
    peaks: list[float] = []
    with world(engines=(engine,), baselines=(), students=students, processes=processes) as w:
        gateway = w.gateways[0]
        launch.first_launches(w, students, concurrency)
        for minute in range(1, int(minutes) + 1):
            job = Job("launch", w.target(gateway), 0, 0, tuple(range(students)), w.launch_platform(gateway),
                      seed=minute, duration=60.0)
            outcome = w.clients.run(job, concurrency=concurrency)
            rss = gateway.rss()
            peaks.append(max(rss))
            rate = len(outcome.samples) / max(1e-9, outcome.ended - outcome.started)
            rows.append(f"| {minute} | {len(outcome.samples):,} | {rate:,.1f} | {sum(outcome.errors.values())} | "
                        f"{', '.join(f'{mb:.1f}' for mb in rss)} | {w.database_bytes(gateway):,} |")
            print(rows[-1], flush=True)
    growth = peaks[-1] - peaks[0] if peaks else 0.0
    verdict = (f"flat: the largest worker grew {growth:+.1f} MB from minute 1 to minute {len(peaks)}"
               if growth < FLAT_MB else
               f"NOT flat: the largest worker grew {growth:+.1f} MB from minute 1 to minute {len(peaks)} "
               f"({growth / max(1, len(peaks) - 1):.1f} MB a minute)")
    return f"## Soak: gateway {engine}, {minutes:.0f} minutes of warm launches\n\n" + "\n".join(rows) + \
        f"\n\n{verdict}."
