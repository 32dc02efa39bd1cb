"""The scale-out bench: one PostgreSQL, one gateway replica against two, then one worker against two.

Both replicas are ``gateway serve --workers 1 --threads 4`` on the same database, keys and settings (the second
is the first's environment on another port), so a replica is one unit of scale: one web process. The one-replica
rounds send every request to the first; the two-replica rounds spread each launch as a round-robin balancer
would (login and redeem on one replica, the launch post on the other; ``bench.loadgen.Target.replicas``). Rounds
alternate (1, 2, 1, 2, ...) so both configurations see the machine's other load alike. CPU is summed over every
replica's process tree; PostgreSQL's is the whole server's (see docs/benchmarks.md).

Delivery: grades are accepted with no worker running, then ``gateway worker --concurrency 4`` processes (one,
then two) drain them to the platform (20 ms per AGS call); the rate is what the platform received from its first
score on.
"""

from __future__ import annotations

import contextlib
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

from bench.loadgen import Clients, Job, Target
from bench.platform import LaunchPlatform
from bench.report import ServerStats, launch_table
from bench.servers import (
    PlatformProcess,
    Server,
    _wait_ready,
    platform_process,
    postgres_cpu,
    postgres_database,
    start_gateway,
    tree_cpu,
)
from tests.support.live import reserve_port

ONE, TWO = "1 replica", "2 replicas"


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) clock ticks of every CPU since boot (``/proc/stat``): how saturated the machine was."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


@dataclass
class Pair:
    platform: PlatformProcess
    replicas: list[Server]
    clients: Clients

    def launch_platform(self) -> LaunchPlatform:
        first = self.replicas[0]
        return LaunchPlatform(self.platform.url, self.platform.key_file.read_text(), first.login_url,
                              first.launch_url)

    def target(self, count: int) -> Target:
        first = self.replicas[0]
        replicas = tuple(r.url for r in self.replicas[:count]) if count > 1 else ()
        return Target(ONE if count == 1 else TWO, first.login_url, first.launch_url, first.redeem_url,
                      first.api_key, replicas=replicas)

    def cpu(self, count: int) -> float:
        return sum(r.cpu() for r in self.replicas[:count])


def _second_replica(first: Server, port: int) -> Server:
    """The first replica's environment (database, keys, public URL) on another port: another replica."""
    env = {**first.env, "GATEWAY_PORT": str(port)}
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "serve", "--workers", "1", "--threads", "4"],
                            cwd=first.workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_ready(f"{url}/readyz", proc, "the second replica")
    return Server("replica 2", url, proc, f"{url}/lti/login", f"{url}/lti/launch",
                  redeem_url=f"{url}/api/v1/launches/redeem", api_key=first.api_key, engine="postgresql", env=env,
                  workdir=first.workdir)


@contextlib.contextmanager
def pair(students: int, processes: int) -> Iterator[Pair]:
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gw-bench-scaleout-")))
        ports = [reserve_port(), reserve_port()]
        # Each replica serves the same JWKS; the platform checks client assertions against the first's.
        platform = stack.enter_context(platform_process(
            workdir, [f"http://127.0.0.1:{ports[0]}/.well-known/jwks.json"], students=students))
        url = stack.enter_context(postgres_database())
        first = start_gateway("replica 1", "postgresql", url, platform.url, ports[0], workdir / "gateway",
                              workers=1)
        stack.callback(first.stop)
        second = _second_replica(first, ports[1])
        stack.callback(second.stop)
        clients = Clients(processes)
        stack.callback(clients.close)
        yield Pair(platform, [first, second], clients)


def _launch_rounds(p: Pair, students: int, n: int, rounds: int,
                   concurrency: int) -> tuple[list[ServerStats], dict[str, str]]:
    learnt: dict[str, str] = {}
    first = Job("launch", p.target(2), students, 0, tuple(range(students)), p.launch_platform(), ordered=True)
    outcome = p.clients.run(first, concurrency=concurrency)
    learnt.update(outcome.users)
    learnt["__context__"] = outcome.context_id
    stats = {ONE: ServerStats(ONE), TWO: ServerStats(TWO)}
    busy = {ONE: [0, 0], TWO: [0, 0]}
    for r in range(rounds):
        for count, name in ((1, ONE), (2, TWO)):
            job = Job("launch", p.target(count), n, 0, tuple(range(students)), p.launch_platform(), seed=r + 1)
            cpu, db, machine = p.cpu(count), postgres_cpu(), machine_jiffies()
            result = p.clients.run(job, concurrency=concurrency)
            stats[name].add_round(result, p.cpu(count) - cpu, postgres_cpu() - db, {})
            after = machine_jiffies()
            busy[name][0] += after[0] - machine[0]
            busy[name][1] += after[1] - machine[1]
            print(f"  scale-out round {r + 1}: {name}: {stats[name].launches} launches so far", flush=True)
    learnt["__busy__"] = " / ".join(f"{name} {100 * b / max(1, t):.0f}%" for name, (b, t) in busy.items())
    return list(stats.values()), learnt


@dataclass(frozen=True)
class Delivery:
    workers: int
    grades: int
    rate: float
    worker_cpu_ms: float
    db_cpu_ms: float


def _deliver(p: Pair, learnt: dict[str, str], workers: int, grades_per_assignment: int, assignments: int,
             seconds: float) -> Delivery:
    first = p.replicas[0]
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {first.api_key}"
    base = f"{first.url}/api/v1/contexts/{learnt['__context__']}/assignments"
    users = sorted(v for k, v in learnt.items() if not k.startswith("__"))[:grades_per_assignment]
    queued = 0
    for i in range(assignments):
        made = api.post(base, json={"title": f"Scale {workers}.{i}", "points_possible": 10}, timeout=60).json()
        grades = [{"user_id": u, "score_given": (i + j) % 11, "score_maximum": 10} for j, u in enumerate(users)]
        answer = api.post(f"{base}/{made['assignment']['id']}/grades", json={"grades": grades}, timeout=120)
        queued += answer.json()["accepted"]
    before = p.platform.counts().get("scores", 0)
    first.start_workers(workers, concurrency=4)
    try:
        deadline = time.monotonic() + seconds + 60  # start-up, tokens and line items come before the first score
        start_at, start_count, cpu, db = 0.0, before, 0.0, 0.0
        count = before
        while time.monotonic() < deadline and count - before < queued:
            count = p.platform.counts().get("scores", 0)
            if not start_at and count > before:
                start_at, start_count = time.monotonic(), count
                cpu, db = sum(tree_cpu(w.pid) for w in first.workers), postgres_cpu()
                deadline = start_at + seconds
            time.sleep(0.25)
        end_at = time.monotonic()
        cpu = sum(tree_cpu(w.pid) for w in first.workers) - cpu
        db = postgres_cpu() - db
    finally:
        first.stop_workers()
    delivered = count - start_count
    return Delivery(workers, count - before, delivered / max(1e-9, end_at - start_at),
                    cpu * 1000 / max(1, delivered), db * 1000 / max(1, delivered))


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b and not math.isnan(a) and not math.isnan(b) else "-"


def markdown(stats: list[ServerStats], deliveries: list[Delivery], busy: str) -> str:
    one, two = stats
    lines = [launch_table(stats, {ONE, TWO}), "",
             f"The machine's CPUs were busy (everything on it: replicas, PostgreSQL, the load generator, other work) "
             f"during the rounds: {busy}.", "",
             f"Two replicas ÷ one: launches/s {_ratio(two.rate, one.rate)}; gateway CPU per launch "
             f"{_ratio(two.cpu_ms, one.cpu_ms)}; PostgreSQL CPU per launch {_ratio(two.db_cpu_ms, one.db_cpu_ms)}.",
             "",
             "| delivery (20 ms per AGS call) | grades delivered | grades/s | worker CPU ms per grade "
             "| PostgreSQL CPU ms per grade |", "|---|---|---|---|---|"]
    for d in deliveries:
        lines.append(f"| {d.workers} x `gateway worker --concurrency 4` | {d.grades:,} | {d.rate:.1f} "
                     f"| {d.worker_cpu_ms:.2f} | {d.db_cpu_ms:.2f} |")
    if len(deliveries) == 2:
        lines += ["", f"Two workers ÷ one: {_ratio(deliveries[1].rate, deliveries[0].rate)} grades/s."]
    return "\n".join(lines)


def run(*, students: int, n: int, rounds: int, concurrency: int, processes: int, delivery_seconds: float) -> str:
    with pair(students, processes) as p:
        stats, learnt = _launch_rounds(p, students, n, rounds, concurrency)
        deliveries = [_deliver(p, learnt, workers, students, 8, delivery_seconds) for workers in (1, 2)]
    return markdown(stats, deliveries, learnt["__busy__"])

