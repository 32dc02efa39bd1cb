"""The launch benchmark: every server, interleaved round by round, with its CPU, latencies and errors.

First each gateway meets every student once (the first launch of a new user, measured apart); the baselines get
a short warm-up. Then ``rounds`` rounds of ``n`` launches on each server in turn (A B C ... A B C ...), students
drawn at random from the pool, so every timed gateway launch is warm (known user and course).
"""

from __future__ import annotations

from dataclasses import dataclass

import requests

from bench.loadgen import Job, Outcome, run_job
from bench.report import ServerStats, launch_table, ratio_table
from bench.servers import Server, postgres_cpu
from bench.storage import compact, purge_as_if_a_day_later
from bench.world import World


@dataclass(frozen=True)
class LaunchOptions:
    n: int = 600
    rounds: int = 3
    concurrency: int = 8


@dataclass
class LaunchResult:
    stats: list[ServerStats]
    first: list[ServerStats]
    burst: dict[str, str]
    metrics: dict[str, str]
    rss: dict[str, list[float]]
    storage: dict[str, float]
    kept: dict[str, str]

    def markdown(self, world: World) -> str:
        db = {g.name for g in world.gateways if g.engine == "postgresql"}
        gateways = [s for s in self.stats if s.name.startswith("gateway")]
        baselines = [s for s in self.stats if not s.name.startswith("gateway") and s.name != "floor"]
        parts = [
            "### Warm launches (known user and course)", "", launch_table(self.stats, db), "",
            "### Ratios", "", ratio_table(gateways, baselines), "",
            "### First launch of each new user (the gateways' warm-up)", "", launch_table(self.first, db), "",
            "### Checks", "",
            *(f"- {name}: 8 launches of one user at once: {text}" for name, text in self.burst.items()),
            *(f"- {name}: `gateway_outbound_responses_total` on /metrics after the rounds: {text}"
              for name, text in self.metrics.items()),
            *(f"- {name}: web worker RSS after the launches: {', '.join(f'{mb:.0f} MB' for mb in mbs)}"
              for name, mbs in self.rss.items()),
            *(f"- {name}: storage grew {value:,.0f} bytes per warm launch during the rounds (before any purge)"
              for name, value in self.storage.items()),
            *(f"- {name}: {text}" for name, text in self.kept.items()),
        ]
        return "\n".join(parts)


def _round(world: World, server: Server, job: Job, stats: ServerStats, concurrency: int) -> Outcome:
    cpu, db, calls = server.cpu(), postgres_cpu(), world.platform.counts()
    outcome = world.clients.run(job, concurrency=concurrency)
    cpu, db = server.cpu() - cpu, postgres_cpu() - db
    after = world.platform.counts()
    stats.add_round(outcome, cpu, db, {k: v - calls.get(k, 0) for k, v in after.items()})
    return outcome


def first_launches(world: World, students: int, concurrency: int) -> list[ServerStats]:
    """Each gateway meets every student once (each a new user); what it learnt feeds the writeback bench."""
    found = []
    for server in world.gateways:
        stats = ServerStats(server.name)
        job = Job("launch", world.target(server), students, 0, tuple(range(students)), world.launch_platform(server),
                  ordered=True)
        outcome = _round(world, server, job, stats, concurrency)
        print(f"  first launches: {server.name}: {stats.launches} in {stats.seconds:.0f} s", flush=True)
        world.users[server.name] = outcome.users
        world.contexts[server.name] = outcome.context_id
        found.append(stats)
    for server in world.baselines:
        job = Job("launch", world.target(server), 100, 0, tuple(range(students)), world.launch_platform(server))
        world.clients.run(job, concurrency=concurrency)
    return found


def burst(world: World, server: Server, index: int) -> str:
    """8 launches of one user at once, from 8 threads of this process: how many got through to a redeemed record."""
    job = Job("launch", world.target(server), 8, 8, (index,) * 8, world.launch_platform(server), ordered=True)
    outcome = run_job(job)
    lost = 8 - len(outcome.samples)
    return f"{len(outcome.samples)} of 8 redeemed, {lost} lost" + (f" ({dict(outcome.errors)})" if lost else "")


def outbound_metrics(server: Server) -> str:
    """What each web worker's /metrics says (workers keep their own counters: scrape until both answered)."""
    seen: set[str] = set()
    for _ in range(12):
        text = requests.get(f"{server.url}/metrics", timeout=5).text
        lines = [line for line in text.splitlines() if line.startswith("gateway_outbound_responses_total{")]
        seen.add("; ".join(lines) or "none")
    return " | ".join(sorted(seen))


def run(world: World, options: LaunchOptions, students: int) -> LaunchResult:
    initial = {}
    for g in world.gateways:
        compact(world.database_urls[g.name])
        initial[g.name] = world.database_bytes(g)
    first = first_launches(world, students, options.concurrency)
    stats = {s.name: ServerStats(s.name) for s in world.servers}
    sizes = {g.name: world.database_bytes(g) for g in world.gateways}
    for r in range(options.rounds):
        for server in world.servers:
            job = Job("launch", world.target(server), options.n, 0, tuple(range(students)),
                      world.launch_platform(server), seed=r + 1)
            _round(world, server, job, stats[server.name], options.concurrency)
            print(f"  round {r + 1}: {server.name}: {stats[server.name].launches} launches so far", flush=True)
    storage = {g.name: (world.database_bytes(g) - sizes[g.name]) / max(1, stats[g.name].launches)
               for g in world.gateways}
    metrics = {g.name: outbound_metrics(g) for g in world.gateways}
    rss = {s.name: s.rss() for s in world.servers}
    bursts: dict[str, str] = {}
    for g in world.gateways:
        bursts[f"{g.name}, new user"] = burst(world, g, students + 10)
        bursts[f"{g.name}, known user"] = burst(world, g, 0)
    kept = {}
    for g, f in zip(world.gateways, first, strict=True):
        launches = f.launches + stats[g.name].launches + 16
        url = world.database_urls[g.name]
        compact(url)
        before = world.database_bytes(g) - initial[g.name]
        purged = purge_as_if_a_day_later(g, url)
        compact(url)
        after = world.database_bytes(g) - initial[g.name]
        kept[g.name] = (f"storage kept after {launches:,} launches ({students:,} users, 1 course): "
                        f"{before / launches:,.0f} bytes per launch before the purge, {after / launches:,.0f} after "
                        f"the purge jobs a day later would run ({', '.join(f'{v:,} {k}' for k, v in purged.items())} "
                        f"deleted; what stays is users, identities, the course and memberships: "
                        f"{after / students:,.0f} bytes per user)")
    return LaunchResult(list(stats.values()), first, bursts, metrics, rss, storage, kept)

