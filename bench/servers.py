"""The servers under test, each in its own process tree, and what /proc says about them.

Every server is started the way its owner would run it: the gateway with ``gateway serve`` after its CLI set it up
(migrations, a signing key, the platform's registration and deployment, an API key), the baselines under
``gunicorn`` with 2 sync workers. CPU is read from ``/proc/<pid>/stat`` (utime + stime, with the reaped children's
cutime + cstime) summed over the process tree; memory from ``/proc/<pid>/status`` (VmRSS) of each web worker.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import requests

from tests.support.live import reserve_port

CLK_TCK = os.sysconf("SC_CLK_TCK")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"
REPO = Path(__file__).resolve().parent.parent


# -- /proc --------------------------------------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # fields from 3 (state) on: comm may hold spaces


def _parents() -> dict[int, int]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None:
            found[int(entry)] = int(fields[1])
    return found


def process_tree(root: int) -> list[int]:
    parents = _parents()
    tree, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, ppid in parents.items() if ppid in frontier]
        tree += frontier
    return tree


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime (+ reaped children's) of the given processes, in seconds."""
    ticks = 0
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            ticks += sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime (fields 14-17)
    return ticks / CLK_TCK


def tree_cpu(root: int) -> float:
    return cpu_seconds(process_tree(root))


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def postmaster_pid() -> int | None:
    """The PostgreSQL server at 127.0.0.1:5432: the ``postgres`` process whose parent is not one."""
    parents = _parents()
    comms = {pid: _comm(pid) for pid in parents}
    for pid, ppid in parents.items():
        if comms.get(pid) == "postgres" and comms.get(ppid) != "postgres":
            return pid
    return None


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def postgres_cpu() -> float:
    """CPU seconds of the whole PostgreSQL server (every backend, the reaped ones through the postmaster)."""
    pid = postmaster_pid()
    return tree_cpu(pid) if pid is not None else 0.0


# -- servers ------------------------------------------------------------------------------------------------


@dataclass
class Server:
    """One server under test: its name, URLs, and its process (the root of its tree)."""

    name: str
    url: str
    proc: subprocess.Popen[bytes]
    login_url: str
    launch_url: str
    redeem_url: str | None = None
    api_key: str | None = None
    engine: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    workdir: Path | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)  # `gateway worker` processes

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu(self) -> float:
        return tree_cpu(self.pid)

    def web_workers(self) -> list[int]:
        return [pid for pid, ppid in _parents().items() if ppid == self.pid]

    def rss(self) -> list[float]:
        return sorted(rss_mb(pid) for pid in self.web_workers())

    def cli(self, *args: str) -> str:
        assert self.workdir is not None
        return gateway_cli(self.env, self.workdir, *args)

    def start_workers(self, count: int, concurrency: int) -> None:
        for _ in range(count):
            self.workers.append(subprocess.Popen(
                [sys.executable, "-m", "gateway", "worker", "--concurrency", str(concurrency)],
                env=self.env, cwd=self.workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def stop_workers(self) -> None:
        for worker in self.workers:
            _stop(worker)
        self.workers.clear()

    def stop(self) -> None:
        self.stop_workers()
        _stop(self.proc)


def gateway_cli(env: dict[str, str], workdir: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "gateway", *args], env=env, cwd=workdir, capture_output=True,
                          text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"gateway {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _wait_ready(url: str, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before it was ready")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not become ready at {url}")


@dataclass(frozen=True)
class PlatformProcess:
    url: str
    proc: subprocess.Popen[bytes]
    key_file: Path

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = requests.get(f"{self.url}/bench/counts", timeout=5).json()
        return found


@contextlib.contextmanager
def platform_process(workdir: Path, tool_jwks: list[str], *, latency_ms: float = 20.0,
                     students: int = 1000) -> Iterator[PlatformProcess]:
    from sandbox.lms.keys import PlatformKey

    key_file = workdir / "platform.pem"
    key_file.write_text(PlatformKey.generate().private_pem())
    port = reserve_port()
    args = [sys.executable, "-m", "bench.platform", "--port", str(port), "--key-file", str(key_file),
            "--latency-ms", str(latency_ms), "--students", str(students)]
    for url in tool_jwks:
        args += ["--tool-jwks", url]
    proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(f"{url}/jwks", proc, "the platform")
        yield PlatformProcess(url, proc, key_file)
    finally:
        _stop(proc)


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A throwaway database on 127.0.0.1:5432, dropped afterwards."""
    name = f"gw_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_gateway(name: str, engine: str, database_url: str, platform_url: str, port: int, workdir: Path, *,
                  workers: int = 2, threads: int = 4) -> Server:
    """Set the gateway up as a vendor would (its CLI) in ``workdir``, then ``gateway serve``."""
    workdir.mkdir()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(GATEWAY_ENV="test", GATEWAY_DATABASE_URL=database_url, GATEWAY_PORT=str(port),
               GATEWAY_PUBLIC_BASE_URL=url, GATEWAY_KEYS_DIR=str(workdir / "keys"), GATEWAY_LOG_LEVEL="WARNING",
               GATEWAY_VENDOR_LAUNCH_URL="http://127.0.0.1:9/vendor/launch",
               # Delivery is measured on its own, by `gateway worker` processes started for it.
               GATEWAY_WORKER_IN_PROCESS="false",
               GATEWAY_WRITEBACK_POLL_SECONDS="0.2", GATEWAY_WRITEBACK_ASSIGNMENT_WAIT_SECONDS="0.5",
               # The load generator is one address: the limiter runs (its cost is measured) but never trips.
               GATEWAY_RATE_LIMIT_LTI_LAUNCH="1000000/minute", GATEWAY_RATE_LIMIT_API_AUTH_FAILURES="1000000/minute",
               GATEWAY_RATE_LIMIT_REDEEM_FAILURES="1000000/minute")
    (workdir / "keys").mkdir()

    def cli(*args: str) -> str:
        return gateway_cli(env, workdir, *args)

    cli("db", "upgrade")
    cli("keys", "generate")
    cli("registrations", "add", "--lms", "other", "--name", "Bench LMS", "--client-id", "bench-client",
        "--issuer", platform_url, "--auth-login-url", f"{platform_url}/auth", "--auth-token-url",
        f"{platform_url}/token", "--jwks-url", f"{platform_url}/jwks", "--deployment", "bench-deployment")
    api_key = json.loads(cli("api-keys", "create", "--name", "bench", "--scope", "launches", "--scope", "writeback",
                             "--json"))["key"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--workers", str(workers), "--threads", str(threads)],
        cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_ready(f"{url}/readyz", proc, f"gateway {name}")
    return Server(name, url, proc, f"{url}/lti/login", f"{url}/lti/launch", redeem_url=f"{url}/api/v1/launches/redeem",
                  api_key=api_key, engine=engine, env=env, workdir=workdir)


def start_tool(name: str, app: str, platform_url: str, port: int, extra_env: dict[str, str]) -> Server:
    """A baseline (``bench.tools``) under gunicorn, 2 sync workers, as its README would deploy it."""
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    env.update(BENCH_ISSUER=platform_url, BENCH_AUTH_URL=f"{platform_url}/auth",
               BENCH_TOKEN_URL=f"{platform_url}/token", BENCH_JWKS_URL=f"{platform_url}/jwks",
               BENCH_REDIS_URL=REDIS_URL, BENCH_CACHE_PREFIX=f"bench-{uuid.uuid4().hex[:8]}-", **extra_env)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level",
         "warning", f"bench.tools:{app}()"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_ready(f"{url}/nothing", proc, name)
    return Server(name, url, proc, f"{url}/login", f"{url}/launch",
                  redeem_url=f"{url}/redeem" if app == "floor_app" else None, env=env)


def drop_cache(server: Server) -> None:
    """Delete what the tool left in Redis (pylti1p3 keeps launch data a day)."""
    import redis

    prefix = server.env.get("BENCH_CACHE_PREFIX")
    if prefix:
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


def tool_key_files(gateway: Server, workdir: Path) -> tuple[Path, Path]:
    """The gateway's signing key, as PEM files pylti1p3 reads (private and public): the platform trusts it."""
    from cryptography.hazmat.primitives import serialization

    assert gateway.workdir is not None
    private = next((gateway.workdir / "keys").glob("*.pem"))
    key = serialization.load_pem_private_key(private.read_bytes(), password=None)
    public = workdir / "tool-public.pem"
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public
