"""Worker and server processes for crash tests: real ``python -m`` children configured by environment."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.support.flaky_remote import FlakyRemote
from tests.support.gateway import TEST_ENCRYPTION_KEYS, TEST_SECRET_KEY
from tests.support.outbox import FAST

REPO = Path(__file__).resolve().parents[2]


def process_env(database_url: str, keys_dir: Path, **settings: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(
        GATEWAY_ENV="test",
        GATEWAY_DATABASE_URL=database_url,
        GATEWAY_KEYS_DIR=str(keys_dir),
        GATEWAY_ENCRYPTION_KEYS=TEST_ENCRYPTION_KEYS,
        GATEWAY_SECRET_KEY=TEST_SECRET_KEY,
        GATEWAY_LOG_LEVEL="WARNING",
    )
    # No drain on SIGTERM unless a test asks for one: test processes are stopped many times.
    for name, value in {**FAST, "shutdown_grace_seconds": 0, **settings}.items():
        env["GATEWAY_" + name.upper()] = str(value).lower() if isinstance(value, bool) else str(value)
    return env


@contextlib.contextmanager
def spawned(
    mode: str, remote: FlakyRemote, env: dict[str, str], log: Path, *args: str
) -> Iterator[subprocess.Popen[bytes]]:
    """A worker (``worker``) or a gunicorn server (``serve``) with the test backend; SIGKILLed if left running."""
    with log.open("ab") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.http_backend", mode, "--remote", remote.url, *args],
            cwd=REPO, env=env, stdout=sink, stderr=sink, start_new_session=True,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def kill_hard(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process and its children (gunicorn's worker too): no handler, no cleanup."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
