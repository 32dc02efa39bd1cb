"""The load generator: client processes (threads in each) that play the LMS and the vendor against one server.

A launch is what a browser and the LMS do, then what the vendor's back end does:

1. ``login``: the LMS link (OIDC login initiation) → the tool answers 302 to the platform's auth endpoint;
2. the platform (here, :class:`bench.platform.LaunchPlatform`, in this process) signs the ``id_token`` with the
   tool's nonce;
3. ``launch``: the form post of the ``id_token`` and ``state`` to the tool (gateway: 302 to the vendor with a code);
4. ``redeem``: the vendor's back end redeems the code (gateway API; the floor's trivial request; pylti1p3 has no
   such step: its launch data is already in the vendor's process).

Each step is timed; a refusal or error is counted by ``step status code`` and the launch goes on with the next one.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import requests

from bench.platform import LaunchPlatform, student
from sandbox.lms.keys import PlatformKey
from tests.support.lti_flow import Browser, parse_page

STEPS = ("login", "launch", "redeem")


@dataclass(frozen=True)
class Target:
    """One server as the client sees it."""

    name: str
    login_url: str
    launch_url: str
    redeem_url: str | None = None
    api_key: str | None = None
    expect_code: bool = True  # the launch answers a redirect with ?code= (gateway, floor), not a page (pylti1p3)
    # Replicas of one gateway (base URLs): each launch's login and redeem go to one, its launch post to the next,
    # as a round-robin balancer would send them (the browser sees one origin, so its cookies go along).
    replicas: tuple[str, ...] = ()


def _on(url: str, base: str) -> str:
    """``url`` with ``base``'s scheme and host: the replica the balancer chose for this request."""
    target = urlsplit(base)
    return urlunsplit(urlsplit(url)._replace(scheme=target.scheme, netloc=target.netloc))


@dataclass(frozen=True)
class Job:
    """``n`` operations of one kind from ``threads`` threads of one process; students drawn from ``students``."""

    kind: str  # "launch" or "grade"
    target: Target
    n: int
    threads: int
    students: tuple[int, ...]
    platform: LaunchPlatform | None = None
    seed: int = 0
    ordered: bool = False  # take students in order (each once) rather than at random
    duration: float | None = None  # run until this many seconds have passed, whatever n says
    grade_path: str = ""  # "grade": PUT {grade_path}/{user_id} (a full URL); students index user_ids
    user_ids: tuple[str, ...] = ()


@dataclass
class Outcome:
    """What one process measured: per-operation step latencies (ms), errors, its time window, and what it learnt."""

    samples: list[dict[str, float]] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    started: float = 0.0
    ended: float = 0.0
    users: dict[str, str] = field(default_factory=dict)  # LTI sub → the gateway's usr_... (from redeemed records)
    context_id: str = ""

    def merge(self, other: Outcome) -> Outcome:
        return Outcome(self.samples + other.samples, self.errors + other.errors,
                       min(self.started or other.started, other.started or self.started),
                       max(self.ended, other.ended), {**self.users, **other.users},
                       self.context_id or other.context_id)


class StepFailed(Exception):
    def __init__(self, step: str, response: requests.Response | None, detail: str = "") -> None:
        code = detail
        if response is not None and not code:
            if "json" in response.headers.get("Content-Type", ""):
                try:
                    code = str(response.json().get("code", ""))
                except ValueError:
                    code = ""
            else:
                code = parse_page(response.text).error_code or ""
        status = response.status_code if response is not None else "-"
        super().__init__(f"{step} {status} {code}".strip())


def _launch(job: Job, key: PlatformKey, session: requests.Session, index: int, outcome: Outcome,
            lock: threading.Lock) -> dict[str, float]:
    assert job.platform is not None
    target, user = job.target, student(index)
    browser = Browser(session=session)
    times: dict[str, float] = {}
    login_url, launch_url, redeem_url = job.platform.login_query(user.sub), target.launch_url, target.redeem_url
    if target.replicas:
        first, then = target.replicas[index % len(target.replicas)], target.replicas[(index + 1) % len(target.replicas)]
        login_url, launch_url = _on(login_url, first), _on(launch_url, then)
        redeem_url = _on(redeem_url, first) if redeem_url else None
    t0 = time.perf_counter()
    login = browser.get(login_url)
    t1 = time.perf_counter()
    times["login"] = (t1 - t0) * 1000
    if login.status_code != 302:
        raise StepFailed("login", login)
    if target.replicas:
        browser.cookies.setdefault(urlsplit(launch_url).netloc, {}).update(
            browser.cookies.get(urlsplit(login_url).netloc, {}))
    form = job.platform.answer(login.headers["Location"], user, key)
    t2 = time.perf_counter()
    answer = browser.post(launch_url, form)
    t3 = time.perf_counter()
    times["launch"] = (t3 - t2) * 1000
    if target.expect_code:
        location = answer.headers.get("Location", "")
        if answer.status_code not in (302, 303) or "code=" not in location:
            raise StepFailed("launch", answer)
        code = location.split("code=", 1)[1].split("&", 1)[0]
    elif answer.status_code != 200:
        raise StepFailed("launch", answer)
    if redeem_url is not None:
        headers = {"Authorization": f"Bearer {target.api_key}"} if target.api_key else {}
        redeemed = session.post(redeem_url, json={"code": code}, headers=headers, timeout=10)
        times["redeem"] = (time.perf_counter() - t3) * 1000
        if redeemed.status_code != 200:
            raise StepFailed("redeem", redeemed)
        if target.api_key:
            record = redeemed.json()
            with lock:
                outcome.users[user.sub] = record["user"]["id"]
                outcome.context_id = record["context"]["id"]
    times["total"] = (time.perf_counter() - t0) * 1000
    return times


def _grade(job: Job, session: requests.Session, index: int) -> dict[str, float]:
    started = time.perf_counter()
    answer = session.put(f"{job.grade_path}/{job.user_ids[index]}", timeout=30,
                         json={"score_given": random.randint(0, 10), "score_maximum": 10,
                               "activity_progress": "Completed", "grading_progress": "FullyGraded"},
                         headers={"Authorization": f"Bearer {job.target.api_key}"})
    if answer.status_code != 202:
        raise StepFailed("put", answer)
    return {"total": (time.perf_counter() - started) * 1000}


def run_job(job: Job) -> Outcome:
    """In a client process: run the job's operations from its threads and say what happened."""
    key = PlatformKey.from_pem(job.platform.key_pem) if job.platform is not None else None
    rng = random.Random(job.seed)
    picks = list(job.students) if job.ordered else [rng.choice(job.students) for _ in range(job.n)]
    outcome = Outcome()
    lock = threading.Lock()
    queue = iter(picks)
    deadline = time.monotonic() + job.duration if job.duration else None

    def next_pick() -> int | None:
        with lock:
            if deadline is not None:
                return rng.choice(job.students) if time.monotonic() < deadline else None
            return next(queue, None)

    def worker() -> None:
        session = requests.Session()
        op: Callable[[int], dict[str, float]]
        if job.kind == "launch":
            assert key is not None
            op = lambda index: _launch(job, key, session, index, outcome, lock)  # noqa: E731
        else:
            op = lambda index: _grade(job, session, index)  # noqa: E731
        while (index := next_pick()) is not None:
            try:
                times = op(index)
            except StepFailed as e:
                with lock:
                    outcome.errors[str(e)] += 1
                continue
            except (requests.RequestException, KeyError, ValueError) as e:
                with lock:
                    outcome.errors[type(e).__name__] += 1
                continue
            with lock:
                outcome.samples.append(times)

    threads = [threading.Thread(target=worker) for _ in range(job.threads)]
    outcome.started = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outcome.ended = time.time()
    return outcome


class Clients:
    """The client processes (spawned once, reused for every round so start-up is never timed)."""

    def __init__(self, processes: int = 2) -> None:
        self.processes = processes
        self._pool = concurrent.futures.ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))
        list(self._pool.map(_warm_import, range(processes)))

    def run(self, job: Job, *, concurrency: int = 8) -> Outcome:
        """Split ``job`` over the processes (``concurrency`` threads in all) and merge what they measured."""
        threads = max(1, concurrency // self.processes)
        parts = []
        for p in range(self.processes):
            students = job.students[p :: self.processes] if job.ordered else job.students
            n = len(students) if job.ordered else job.n // self.processes + (p < job.n % self.processes)
            parts.append(Job(**{**job.__dict__, "n": n, "threads": threads, "students": tuple(students),
                                "seed": job.seed * 100 + p}))
        outcomes = list(self._pool.map(run_job, parts))
        merged = outcomes[0]
        for other in outcomes[1:]:
            merged = merged.merge(other)
        return merged

    def close(self) -> None:
        self._pool.shutdown()


def _warm_import(_: int) -> int:
    # Imports and the first RSA key load happen here, not in a timed round.
    time.sleep(0.5)
    return 0
