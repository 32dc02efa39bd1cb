"""The writeback benchmark: grades in, grades out, and the same grades sent by pylti1p3's AGS client.

On each gateway, after the launch rounds (every student has launched in the course, so each can be graded):

- ingest: ``batches`` batches of up to 1,000 grades (one assignment each) from one vendor client, no worker
  running: grades accepted per second, server and PostgreSQL CPU;
- single grade PUTs from ``concurrency`` clients (2 processes);
- delivery: ``gateway worker`` processes (1 on SQLite, 2 on PostgreSQL, ``--concurrency 4`` each) drain the outbox
  to the platform, which answers AGS after 20 ms; the rate is what the platform received, per second, over
  ``delivery_seconds`` from its first score.

Baseline: the same kind of grades posted one at a time with pylti1p3's ``AssignmentsGradesService`` (a thread
per ``concurrency`` slot, each with its own service connector and so its own token), to the same platform.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from bench.loadgen import Job
from bench.platform import CLIENT_ID
from bench.report import percentile
from bench.servers import Server, postgres_cpu, tree_cpu
from bench.world import World


@dataclass(frozen=True)
class WritebackOptions:
    batches: int = 10
    batch_size: int = 1000
    puts: int = 1000
    concurrency: int = 8
    delivery_seconds: float = 30.0
    baseline_grades: int = 500
    baseline_threads: int = 4


@dataclass
class EngineResult:
    name: str
    ingest_rate: float = 0.0
    ingest_batch_ms: list[float] = field(default_factory=list)
    ingest_cpu_ms_per_grade: float = 0.0
    ingest_db_cpu_ms_per_grade: float = 0.0
    rejected: int = 0
    put_rate: float = 0.0
    put_p50: float = 0.0
    put_p99: float = 0.0
    put_errors: dict[str, int] = field(default_factory=dict)
    delivery_rate: float = 0.0
    delivered: int = 0
    worker_cpu_ms_per_grade: float = 0.0
    rss_before: list[float] = field(default_factory=list)
    rss_after: list[float] = field(default_factory=list)
    storage_bytes_per_grade: float = 0.0


def _api(server: Server) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {server.api_key}"
    return session


def _grade(user_id: str, score: int) -> dict[str, Any]:
    return {"user_id": user_id, "score_given": score % 11, "score_maximum": 10, "activity_progress": "Completed",
            "grading_progress": "FullyGraded"}


def run_engine(world: World, server: Server, options: WritebackOptions) -> EngineResult:
    result = EngineResult(server.name)
    api, context = _api(server), world.contexts[server.name]
    users = sorted(world.users[server.name].values())
    base = f"{server.url}/api/v1/contexts/{context}/assignments"
    assignments = []
    for i in range(options.batches + 1):
        made = api.post(base, json={"title": f"Quiz {i}", "points_possible": 10, "vendor_id": f"quiz-{i}"},
                        timeout=30)
        if made.status_code != 202:
            raise RuntimeError(f"{server.name}: assignment refused: {made.status_code} {made.text[:300]}")
        assignments.append(made.json()["assignment"]["id"])
    result.rss_before = server.rss()
    size = world.database_bytes(server)
    cpu, db = server.cpu(), postgres_cpu()
    accepted, started = 0, time.perf_counter()
    for b in range(options.batches):
        grades = [_grade(u, b + i) for i, u in enumerate(users[: options.batch_size])]
        t = time.perf_counter()
        answer = api.post(f"{base}/{assignments[b]}/grades", json={"grades": grades}, timeout=120)
        result.ingest_batch_ms.append((time.perf_counter() - t) * 1000)
        if answer.status_code != 202:
            raise RuntimeError(f"{server.name}: batch refused: {answer.status_code} {answer.text[:300]}")
        accepted += answer.json()["accepted"]
        result.rejected += answer.json()["rejected"]
    elapsed = time.perf_counter() - started
    result.ingest_rate = accepted / elapsed
    result.ingest_cpu_ms_per_grade = (server.cpu() - cpu) * 1000 / max(1, accepted)
    result.ingest_db_cpu_ms_per_grade = (postgres_cpu() - db) * 1000 / max(1, accepted)
    result.storage_bytes_per_grade = (world.database_bytes(server) - size) / max(1, accepted)
    result.rss_after = server.rss()

    job = Job("grade", world.target(server), options.puts, 0, tuple(range(len(users))), user_ids=tuple(users),
              grade_path=f"{base}/{assignments[-1]}/grades")
    outcome = world.clients.run(job, concurrency=options.concurrency)
    latencies = [s["total"] for s in outcome.samples]
    result.put_rate = len(latencies) / max(1e-9, outcome.ended - outcome.started)
    result.put_p50, result.put_p99 = percentile(latencies, 50), percentile(latencies, 99)
    result.put_errors = dict(outcome.errors)

    before = world.platform.counts().get("scores", 0)
    server.start_workers(2 if server.engine == "postgresql" else 1, concurrency=4)
    try:
        watched = _watch_scores(world, server, before, options.delivery_seconds)
    finally:
        server.stop_workers()
    result.delivered = watched.last_count - before
    if watched.last_at > watched.first_at:
        result.delivery_rate = (watched.last_count - watched.first_count) / (watched.last_at - watched.first_at)
        result.worker_cpu_ms_per_grade = watched.cpu * 1000 / max(1, watched.last_count - watched.first_count)
    return result


@dataclass(frozen=True)
class Watched:
    first_at: float
    first_count: int
    last_at: float
    last_count: int
    cpu: float  # the workers' CPU seconds between the first score and the last


def _watch_scores(world: World, server: Server, before: int, seconds: float) -> Watched:
    """Poll the platform's score count from the first score on for ``seconds`` (the workers' start-up is not in)."""
    deadline = time.monotonic() + seconds + 60  # the first score may take a while (start-up, token, line items)
    first_at, first_count, cpu = 0.0, before, 0.0
    while time.monotonic() < deadline:
        count = world.platform.counts().get("scores", 0)
        if not first_at and count > before:
            first_at, first_count = time.monotonic(), count
            cpu = sum(tree_cpu(w.pid) for w in server.workers)
            deadline = first_at + seconds
        time.sleep(0.5)
    cpu = sum(tree_cpu(w.pid) for w in server.workers) - cpu
    return Watched(first_at, first_count, time.monotonic(), world.platform.counts().get("scores", 0), cpu)


def pylti1p3_baseline(world: World, options: WritebackOptions) -> tuple[float, float, float, int]:
    """Grades posted one at a time with pylti1p3's AGS client: (grades/s, p50 ms, p99 ms, errors)."""
    from pylti1p3.assignments_grades import AssignmentsGradesService, TAssignmentsGradersData
    from pylti1p3.contrib.flask.service_connector import FlaskServiceConnector
    from pylti1p3.grade import Grade
    from pylti1p3.lineitem import LineItem
    from pylti1p3.tool_config.dict import ToolConfDict

    from bench.servers import tool_key_files
    from gateway.lti import claims as c

    issuer = world.platform.url
    private, public = tool_key_files(world.gateways[0], world.workdir)
    conf = ToolConfDict({issuer: [{"default": True, "client_id": CLIENT_ID, "auth_login_url": f"{issuer}/auth",
                                   "auth_token_url": f"{issuer}/token", "key_set_url": f"{issuer}/jwks",
                                   "key_set": None, "deployment_ids": ["bench-deployment"]}]})
    conf.set_private_key(issuer, private.read_text(), client_id=CLIENT_ID)
    conf.set_public_key(issuer, public.read_text(), client_id=CLIENT_ID)
    registration = conf.find_registration_by_params(issuer, CLIENT_ID)
    service_data: TAssignmentsGradersData = {"scope": [c.AGS_SCOPE_LINEITEM, c.AGS_SCOPE_SCORE],
                                             "lineitems": f"{issuer}/ags/course-1/lineitems"}

    def service() -> AssignmentsGradesService:
        return AssignmentsGradesService(FlaskServiceConnector(registration), service_data)

    item = service().find_or_create_lineitem(
        LineItem().set_tag("bench-baseline").set_score_maximum(10).set_label("Baseline quiz"))
    subs = sorted(world.users[world.gateways[0].name])  # students the platform knows
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    queue = iter(range(options.baseline_grades))

    def worker() -> None:
        nonlocal errors
        ags = service()
        while True:
            with lock:
                i = next(queue, None)
            if i is None:
                return
            grade = (Grade().set_score_given(i % 11).set_score_maximum(10)
                     .set_timestamp(time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()))
                     .set_activity_progress("Completed").set_grading_progress("FullyGraded")
                     .set_user_id(subs[i % len(subs)]))
            t = time.perf_counter()
            try:
                ags.put_grade(grade, item)
            except Exception:  # pylti1p3 raises its own and requests' errors alike: each is one lost grade
                with lock:
                    errors += 1
                continue
            with lock:
                latencies.append((time.perf_counter() - t) * 1000)

    threads = [threading.Thread(target=worker) for _ in range(options.baseline_threads)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, percentile(latencies, 50), percentile(latencies, 99), errors


def markdown(results: list[EngineResult], baseline: tuple[float, float, float, int] | None,
             options: WritebackOptions) -> str:
    head = "| | " + " | ".join(r.name for r in results) + " |"
    rows = [
        (f"ingest, {options.batches} batches of {options.batch_size:,}: grades/s accepted",
         [f"{r.ingest_rate:,.0f}" for r in results]),
        ("ingest: batch p50 / max ms",
         [f"{percentile(r.ingest_batch_ms, 50):,.0f} / {max(r.ingest_batch_ms):,.0f}" for r in results]),
        ("ingest: server CPU ms per grade", [f"{r.ingest_cpu_ms_per_grade:.2f}" for r in results]),
        ("ingest: PostgreSQL server CPU ms per grade", [f"{r.ingest_db_cpu_ms_per_grade:.2f}" for r in results]),
        ("ingest: grades rejected", [str(r.rejected) for r in results]),
        ("ingest: storage bytes per queued grade", [f"{r.storage_bytes_per_grade:,.0f}" for r in results]),
        (f"single PUTs, {options.concurrency} clients: grades/s", [f"{r.put_rate:,.0f}" for r in results]),
        ("single PUTs: p50 / p99 ms", [f"{r.put_p50:,.1f} / {r.put_p99:,.1f}" for r in results]),
        ("single PUTs: errors", [", ".join(f"{k}: {v}" for k, v in r.put_errors.items()) or "0" for r in results]),
        (f"delivery to the LMS (20 ms per AGS call), over {options.delivery_seconds:.0f} s: grades/s",
         [f"{r.delivery_rate:,.1f}" for r in results]),
        ("delivery: grades the LMS received", [f"{r.delivered:,}" for r in results]),
        ("delivery: worker CPU ms per grade", [f"{r.worker_cpu_ms_per_grade:.2f}" for r in results]),
        ("web worker RSS before / after the batches, MB",
         [" / ".join(f"{a:.0f}→{b:.0f}" for a, b in zip(r.rss_before, r.rss_after, strict=False)) for r in results]),
    ]
    lines = [head, "|---" * (len(results) + 1) + "|", *(f"| {a} | " + " | ".join(b) + " |" for a, b in rows)]
    if baseline is not None:
        rate, p50, p99, errors = baseline
        lines += ["", f"pylti1p3 AGS client, {options.baseline_grades} grades one at a time from "
                      f"{options.baseline_threads} threads to the same LMS: {rate:,.1f} grades/s, "
                      f"p50 {p50:,.1f} ms, p99 {p99:,.1f} ms, {errors} errors."]
    return "\n".join(lines)


def run(world: World, options: WritebackOptions) -> str:
    results = []
    for server in world.gateways:
        results.append(run_engine(world, server, options))
        print(f"  writeback: {server.name} done", flush=True)
    baseline = pylti1p3_baseline(world, options)
    return markdown(results, baseline, options)
