"""``make run``'s server for tests: a real ``gateway serve`` in dev mode (gunicorn, the in-process worker, the
sandbox mounted), on a free loopback port, with its own SQLite file and keys directory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.live import reserve_port
from tests.support.processes import REPO
from tests.support.waiting import ready, wait_until


@dataclass(frozen=True)
class DevServer:
    url: str
    env: dict[str, str]  # what the server was started with: the CLI (api-keys create) needs the same
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def api_key(self, *scopes: str) -> str:
        """What the quick start's first step prints: a key made with the CLI, exactly as a person would."""
        args = [str(Path(sys.executable).parent / "gateway"), "api-keys", "create", "--name", "test"]
        for scope in scopes:
            args += ["--scope", scope]
        made = subprocess.run(args, cwd=REPO, env=self.env, capture_output=True, text=True, timeout=60, check=True)
        return made.stdout.strip().splitlines()[-1]


def dev_env(folder: Path, port: int) -> dict[str, str]:
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    keys = folder / "keys"
    keys.mkdir(exist_ok=True)
    env.update(
        GATEWAY_ENV="dev",
        GATEWAY_DATABASE_URL=f"sqlite:///{folder / 'gateway.db'}",
        GATEWAY_KEYS_DIR=str(keys),
        GATEWAY_PORT=str(port),
        GATEWAY_PUBLIC_BASE_URL=url,
        GATEWAY_VENDOR_LAUNCH_URL=url + "/sandbox/vendor/launch",
        GATEWAY_LOG_LEVEL="WARNING",
    )
    return env



@contextmanager
def dev_server(folder: Path) -> Iterator[DevServer]:
    """``gateway serve`` as ``make run`` starts it (dev mode migrates and makes a dev key), stopped at the end."""
    port = reserve_port()
    env = dev_env(folder, port)
    log = folder / "serve.log"
    with log.open("ab") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "gateway", "serve"], cwd=REPO, env=env, stdout=sink,
                                stderr=sink, start_new_session=True)
    server = DevServer(f"http://127.0.0.1:{port}", env, log)
    try:
        wait_until(lambda: ready(server.url) or proc.poll() is not None, timeout=90, what="gateway serve (dev)")
        assert proc.poll() is None, server.output()[-2000:]
        yield server
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
