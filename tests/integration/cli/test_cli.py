"""The `gateway` command, run as a process: API keys, tool keys, migrations, and production refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.support.databases import DatabaseFactory
from tests.support.gateway import TEST_ENCRYPTION_KEYS, TEST_SECRET_KEY
from tests.support.live import reserve_port
from tests.support.waiting import wait_until


def _env(database_url: str, keys_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(
        GATEWAY_ENV="test",
        GATEWAY_DATABASE_URL=database_url,
        GATEWAY_KEYS_DIR=str(keys_dir),
        GATEWAY_ENCRYPTION_KEYS=TEST_ENCRYPTION_KEYS,
        GATEWAY_LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def _gateway(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_api_keys_create_list_revoke(sqlite_url: str, keys_dir: Path) -> None:
    env = _env(sqlite_url, keys_dir)
    created = _gateway(env, "api-keys", "create", "--name", "lesson-app", "--scope", "launches",
                       "--scope", "writeback", "--json")
    assert created.returncode == 0, created.stderr
    made = json.loads(created.stdout)
    assert made["key"].startswith(f"gw_{made['id']}.")
    assert made["scopes"] == ["launches", "writeback"]

    listed = _gateway(env, "api-keys", "list", "--json")
    rows = json.loads(listed.stdout)
    assert [r["id"] for r in rows] == [made["id"]]
    assert made["key"] not in listed.stdout and "secret" not in listed.stdout

    revoked = _gateway(env, "api-keys", "revoke", made["id"])
    assert revoked.returncode == 0
    assert json.loads(_gateway(env, "api-keys", "list", "--json").stdout)[0]["revoked_at"]
    assert _gateway(env, "api-keys", "revoke", "0000000000000000").returncode == 1


def test_several_scopes_after_one_flag(sqlite_url: str, keys_dir: Path) -> None:
    created = _gateway(_env(sqlite_url, keys_dir), "api-keys", "create", "--name", "app", "--scope", "launches",
                       "writeback", "--json")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["scopes"] == ["launches", "writeback"]


def test_unknown_scope_is_refused(sqlite_url: str, keys_dir: Path) -> None:
    result = _gateway(_env(sqlite_url, keys_dir), "api-keys", "create", "--name", "x", "--scope", "everything")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_keys_generate_and_list(sqlite_url: str, keys_dir: Path) -> None:
    env = _env(sqlite_url, keys_dir)
    assert _gateway(env, "keys", "generate").returncode == 0
    assert _gateway(env, "keys", "generate").returncode == 0
    keys = json.loads(_gateway(env, "keys", "list", "--json").stdout)
    assert [k["status"] for k in keys] == ["active", "next"]
    pem_files = sorted(keys_dir.glob("*.pem"))
    assert len(pem_files) == 2
    assert all(oct(p.stat().st_mode)[-3:] == "600" for p in pem_files)


def test_db_upgrade_and_current(db_factory: DatabaseFactory, keys_dir: Path, engine_name: str) -> None:
    env = _env(db_factory.empty_url(engine_name), keys_dir)
    assert _gateway(env, "db", "current").returncode == 1
    upgraded = _gateway(env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert _gateway(env, "db", "current").returncode == 0


@pytest.mark.parametrize(
    ("extra", "setting"),
    [
        ({}, "GATEWAY_SECRET_KEY"),
        ({"GATEWAY_SECRET_KEY": TEST_SECRET_KEY}, "GATEWAY_ENCRYPTION_KEYS"),
        ({"GATEWAY_SECRET_KEY": TEST_SECRET_KEY, "GATEWAY_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEYS},
         "GATEWAY_PUBLIC_BASE_URL"),
        (
            {
                "GATEWAY_SECRET_KEY": TEST_SECRET_KEY,
                "GATEWAY_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEYS,
                "GATEWAY_PUBLIC_BASE_URL": "https://gw.example.org",
            },
            "GATEWAY_DATABASE_URL",
        ),
    ],
)
def test_production_refuses_to_serve_with_dev_defaults(
    sqlite_url: str, keys_dir: Path, extra: dict[str, str], setting: str
) -> None:
    env = _env(sqlite_url, keys_dir, GATEWAY_ENV="production", **extra)
    if "GATEWAY_ENCRYPTION_KEYS" not in extra:
        env["GATEWAY_ENCRYPTION_KEYS"] = "dev:ZGV2LWluc2VjdXJlLWVuY3J5cHRpb24ta2V5LTMyYnk="
    result = _gateway(env, "serve", "--port", str(reserve_port()))
    assert result.returncode == 3
    assert setting in result.stderr


def test_production_refuses_a_dev_signing_key(sqlite_url: str, keys_dir: Path) -> None:
    (keys_dir / "abc.dev.pem").write_text("dev key placeholder file")
    env = _env(
        sqlite_url,
        keys_dir,
        GATEWAY_ENV="production",
        GATEWAY_SECRET_KEY=TEST_SECRET_KEY,
        GATEWAY_ENCRYPTION_KEYS=TEST_ENCRYPTION_KEYS,
        GATEWAY_PUBLIC_BASE_URL="https://gw.example.org",
        GATEWAY_ALLOW_SQLITE_IN_PRODUCTION="true",
        GATEWAY_VENDOR_LAUNCH_URL="https://app.example.org/launch",
    )
    result = _gateway(env, "serve", "--port", str(reserve_port()))
    assert result.returncode == 3
    assert "GATEWAY_KEYS_DIR" in result.stderr


def test_dev_serve_migrates_makes_a_dev_key_and_serves(tmp_path: Path) -> None:
    """What `make run` does after installing: a bare directory becomes a serving gateway."""
    port = reserve_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    # No drain on the SIGTERM that ends the test (what draining does is tested in tests/integration/deploy).
    env.update(GATEWAY_PORT=str(port), GATEWAY_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
               GATEWAY_SHUTDOWN_GRACE_SECONDS="0")
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve"], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        def ready() -> bool:
            try:
                return requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or busy starting
                return False

        try:
            wait_until(ready, timeout=30, what="/readyz", interval=0.2)
        except AssertionError as e:
            raise AssertionError(log_path.read_text()[-2000:]) from e
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
        assert (tmp_path / "var" / "gateway.db").exists()
        assert len(list((tmp_path / "keys").glob("*.dev.pem"))) == 1
    finally:
        proc.terminate()
        proc.wait(timeout=30)
