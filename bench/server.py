"""Run the real gateway (`gateway serve`, gunicorn) in its own process for benchmarks.

Client and server in one process would share one GIL and measure that instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.support.live import reserve_port


@dataclass(frozen=True)
class ServedGateway:
    url: str
    env: dict[str, str]
    workdir: Path

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "gateway", *args], env=self.env, cwd=self.workdir,
            capture_output=True, text=True, check=True, timeout=60,
        )
        return done.stdout

    def api_key(self, *scopes: str) -> str:
        args = ["api-keys", "create", "--name", "bench", "--json"]
        for scope in scopes:
            args += ["--scope", scope]
        key: str = json.loads(self.cli(*args))["key"]
        return key


@contextmanager
def served_gateway(workers: int = 2, threads: int = 8, **settings: str) -> Iterator[ServedGateway]:
    port = reserve_port()
    with tempfile.TemporaryDirectory(prefix="gw-bench-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
        env.update(GATEWAY_PORT=str(port), GATEWAY_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
                   GATEWAY_LOG_LEVEL="WARNING", **settings)
        workdir = Path(tmp)
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--workers", str(workers), "--threads", str(threads)],
            cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if requests.get(f"{url}/readyz", timeout=2).status_code == 200:
                        break
                except requests.ConnectionError:
                    time.sleep(0.2)
            else:
                raise RuntimeError("gateway did not become ready")
            yield ServedGateway(url, env, workdir)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
