"""Real ``gateway serve`` replicas and ``gateway worker`` processes on one database, for scale-out tests.

Each process is a child in its own session (``python -m gateway ...``), configured by ``GATEWAY_*`` variables
only, as a container would be; its output goes to a log file beside the test's data.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import REPO
from tests.support.waiting import ready, wait_until


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, signum: int) -> None:
        os.killpg(self.proc.pid, signum)

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        """SIGKILL whatever is left (the test already stopped what it meant to stop gracefully)."""
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def spawn(name: str, args: list[str], env: dict[str, str], logs: Path) -> Child:
    log = logs / f"{name}.log"
    with log.open("ab") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "gateway", *args], cwd=REPO, env=env, stdout=sink,
                                stderr=sink, start_new_session=True)
    return Child(name, proc, log)


def serve(name: str, env: dict[str, str], logs: Path) -> Child:
    return spawn(name, ["serve", "--workers", "1", "--threads", "4"], env, logs)


def worker(name: str, env: dict[str, str], logs: Path) -> Child:
    return spawn(name, ["worker", "--concurrency", "2"], env, logs)



def wait_ready(child: Child, url: str) -> None:
    def up() -> bool:
        assert child.alive(), f"{child.name} exited:\n{child.tail()}"
        return ready(url)

    wait_until(up, timeout=60, what=f"{child.name} to answer /readyz", interval=0.2)
