"""Sampling profiles of the gateway under launch load: ``py-spy record`` on the whole ``gateway serve`` tree.

``python -m bench profile --seconds 30``: each engine's gateway meets the students once, then py-spy samples
its process tree (``--subprocesses --nonblocking``, idle threads left out) while the load generator launches
warm for ``--seconds``. The raw collapsed stacks go to ``var/bench/profile-<engine>.txt``; the report shows
what share of the busy samples each function is on the stack for (inclusive) or at the top of (self), and a
few named costs (new connections, PRAGMAs, statement execution, ORM work, the RS256 verify...).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bench import launch
from bench.loadgen import Job
from bench.world import world

OUT = Path("var/bench")
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]+)(?::\d+)?\)$")

# Named costs: a sample counts for a name when any frame of its stack matches (function, file part).
NAMED: dict[str, tuple[str, str]] = {
    "opening a database connection (pool connect)": ("__connect", "sqlalchemy/pool/base.py"),
    "SQLite PRAGMAs on connect": ("_sqlite_connect", "gateway/store/db.py"),
    "pool pre-ping (PostgreSQL checkout)": ("do_ping", "sqlalchemy/"),
    "statement execution (DBAPI cursor.execute)": ("do_execute", "sqlalchemy/engine/default.py"),
    "SQL compilation": ("_compile_w_cache", "sqlalchemy/"),
    "ORM flush": ("flush", "sqlalchemy/orm/session.py"),
    "commit": ("commit", "sqlalchemy/orm/session.py"),
    "RS256 verify (PyJWT decode)": ("decode_complete", "jwt/api_jws.py"),
    "AES-GCM (gateway.crypto)": ("", "gateway/crypto.py"),
    "HTML templates (Jinja)": ("render", "jinja2/"),
    "metrics (prometheus_client)": ("", "prometheus_client/"),
    "logging": ("", "logging/__init__.py"),
}


def _parse(path: Path) -> list[tuple[list[tuple[str, str]], int]]:
    stacks = []
    for line in path.read_text().splitlines():
        body, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = []
        for raw in body.split(";"):
            match = _FRAME.match(raw.strip())
            if match:
                frames.append((match["func"], match["file"]))
        stacks.append((frames, int(count)))
    return stacks


def _short(func: str, file: str) -> str:
    for marker in ("site-packages/", "wt-bench/", "/work/main/"):
        if marker in file:
            file = file.split(marker, 1)[1]
    return f"{func} ({file})"


def summarise(path: Path, top: int = 25) -> str:
    stacks = _parse(path)
    total = sum(count for _, count in stacks) or 1
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    named: Counter[str] = Counter()
    for frames, count in stacks:
        if frames:
            own[_short(*frames[-1])] += count
        for name in {_short(f, p) for f, p in frames}:
            inclusive[name] += count
        for label, (func, part) in NAMED.items():
            if any(part in p and (not func or f == func or f.endswith("." + func)) for f, p in frames):
                named[label] += count

    def pct(n: int) -> str:
        return f"{100 * n / total:5.1f}%"

    lines = [f"{total:,} busy samples.", "", "Named costs (share of busy samples with it on the stack):", "",
             "| cost | samples |", "|---|---|"]
    lines += [f"| {label} | {pct(named[label])} |" for label in NAMED]
    lines += ["", f"Top {top} gateway functions, inclusive:", "", "```"]
    lines += [f"{pct(n)}  {name}" for name, n in inclusive.most_common()
              if name.split(" (", 1)[1].startswith("gateway/")][:top]
    lines += ["```", "", f"Top {top} functions by self time (where the CPU is when sampled):", "", "```"]
    lines += [f"{pct(n)}  {name}" for name, n in own.most_common(top)]
    lines += ["```"]
    return "\n".join(lines)


def run(engines: tuple[str, ...], seconds: float, students: int, concurrency: int, processes: int) -> str:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    OUT.mkdir(parents=True, exist_ok=True)
    sections = []
    with world(engines=engines, baselines=(), students=students, processes=processes) as w:
        launch.first_launches(w, students, concurrency)
        for gateway in w.gateways:
            out = (OUT / f"profile-{gateway.engine}.txt").resolve()
            recorder = subprocess.Popen(
                [spy, "record", "--pid", str(gateway.pid), "--subprocesses", "--nonblocking", "--format", "raw",
                 "--duration", str(int(seconds)), "--output", str(out)],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(1)
            job = Job("launch", w.target(gateway), 0, 0, tuple(range(students)), w.launch_platform(gateway),
                      duration=seconds)
            outcome = w.clients.run(job, concurrency=concurrency)
            _, err = recorder.communicate(timeout=seconds + 60)
            if not out.exists():
                raise RuntimeError(f"py-spy wrote nothing: {err.decode()[-1000:]}")
            sections.append(f"### {gateway.name}: {len(outcome.samples):,} warm launches in {seconds:.0f} s "
                            f"under py-spy\n\n{summarise(out)}")
    return "## Profiles (py-spy, warm launches)\n\n" + "\n\n".join(sections)
