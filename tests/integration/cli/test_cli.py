"""The `gateway` command, run as a process: API keys, tool keys, migrations, and production refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from sqlalchemy.engine import make_url

from gateway.bootstrap import bootstrap, check_settings
from gateway.settings import load_settings
from tests.support.databases import DatabaseFactory
from tests.support.gateway import TEST_ENCRYPTION_KEYS, TEST_SECRET_KEY
from tests.support.live import reserve_port
from tests.support.waiting import ready, wait_until


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


def _production(sqlite_url: str, keys_dir: Path, **extra: str) -> dict[str, str]:
    """Production settings that pass every check (SQLite allowed), before ``extra``."""
    return _env(
        sqlite_url,
        keys_dir,
        GATEWAY_ENV="production",
        GATEWAY_SECRET_KEY=TEST_SECRET_KEY,
        GATEWAY_ENCRYPTION_KEYS=TEST_ENCRYPTION_KEYS,
        GATEWAY_PUBLIC_BASE_URL="https://gw.example.org",
        GATEWAY_ALLOW_SQLITE_IN_PRODUCTION="true",
        GATEWAY_VENDOR_LAUNCH_URL="https://app.example.org/launch",
        **extra,
    )


def test_production_refuses_a_dev_signing_key_and_says_how_to_replace_it(sqlite_url: str, keys_dir: Path) -> None:
    (keys_dir / "abc.dev.pem").write_text("dev key placeholder file")
    result = _gateway(_production(sqlite_url, keys_dir), "serve", "--port", str(reserve_port()))
    assert result.returncode == 3
    assert "GATEWAY_KEYS_DIR" in result.stderr
    assert f"rm {keys_dir}/*.dev.pem" in result.stderr
    assert "GATEWAY_ENV=production gateway keys generate" in result.stderr


def test_the_dev_key_refusal_is_followed_by_a_start(sqlite_url: str, keys_dir: Path) -> None:
    """The refusal's own steps, run as it says them on a database `make run` used, give a production gateway that
    signs with the new key at once (the dev key, file gone, does not hold it back as "next" for a day)."""
    dev_env = _env(sqlite_url, keys_dir, GATEWAY_ENV="dev")
    assert _gateway(dev_env, "db", "upgrade").returncode == 0
    services = bootstrap(load_settings(environ=dev_env))
    try:
        services.keyring.ensure_dev_key()  # what `make run` does on first start
    finally:
        services.close()
    env = _production(sqlite_url, keys_dir)
    refused = _gateway(env, "worker")
    assert refused.returncode == 3 and "production refuses the dev signing key" in refused.stderr
    for dev_key in keys_dir.glob("*.dev.pem"):  # the `rm` it names
        dev_key.unlink()
    generated = _gateway(env, "keys", "generate")  # production's own `keys generate` is not refused
    assert generated.returncode == 0, generated.stderr
    keys = json.loads(_gateway(env, "keys", "list", "--json").stdout)
    assert [(k["status"], k["dev"], k["loaded"]) for k in keys] == [("retired", True, False), ("active", False, True)]
    check_settings(load_settings(environ=env), serving=True)  # production starts now


def test_production_refuses_to_serve_without_a_signing_key(sqlite_url: str, keys_dir: Path) -> None:
    """Issue 14: it started with a warning and could sign nothing."""
    result = _gateway(_production(sqlite_url, keys_dir), "serve", "--port", str(reserve_port()))
    assert result.returncode == 3, result.stderr
    assert "GATEWAY_KEYS_DIR: production needs a tool signing key and has none" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_names_every_refused_setting_in_one_run(sqlite_url: str, keys_dir: Path) -> None:
    env = _env(sqlite_url, keys_dir, GATEWAY_ENV="production")
    env.pop("GATEWAY_ENCRYPTION_KEYS")
    result = _gateway(env, "serve", "--port", str(reserve_port()))
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "gateway: refusing to start: 6 settings refused:"
    assert [line.split(":")[0].strip() for line in lines[1:]] == [
        "GATEWAY_SECRET_KEY", "GATEWAY_ENCRYPTION_KEYS", "GATEWAY_PUBLIC_BASE_URL", "GATEWAY_DATABASE_URL",
        "GATEWAY_KEYS_DIR", "GATEWAY_VENDOR_LAUNCH_URL",
    ]


@pytest.mark.parametrize("command", [["serve", "--workers", "1"], ["worker"], ["db", "upgrade"], ["keys", "list"]])
@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("GATEWAY_LOG_LEVEL", "LOUD", "GATEWAY_LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        # Checked by a feature (gunicorn's worker built it and died with "Worker failed to boot").
        ("GATEWAY_RATE_LIMIT_LTI_LAUNCH", "lots", "GATEWAY_RATE_LIMIT_LTI_LAUNCH: must be a rate limit"),
        ("GATEWAY_CLEVER_STATELESS_LOGINS", "sometimes", "GATEWAY_CLEVER_STATELESS_LOGINS: must be one of"),
    ],
)
def test_a_malformed_setting_ends_in_one_line_naming_it(
    sqlite_url: str, keys_dir: Path, command: list[str], variable: str, value: str, expected: str
) -> None:
    """Issue 14: `GATEWAY_LOG_LEVEL=LOUD gateway serve` ended in a traceback and "Worker failed to boot"."""
    env = _env(sqlite_url, keys_dir, GATEWAY_ENV="dev", **{variable: value})
    if command[0] == "serve":
        command = [*command, "--port", str(reserve_port())]
    result = _gateway(env, *command)
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"gateway: refusing to start: {expected}")
    assert "Traceback" not in result.stderr and "Worker failed to boot" not in result.stderr


def test_several_malformed_settings_are_named_together(sqlite_url: str, keys_dir: Path) -> None:
    env = _env(sqlite_url, keys_dir, GATEWAY_LOG_LEVEL="LOUD", GATEWAY_PORT="eighty",
               GATEWAY_WRITEBACK_CONCURRENCY="0")
    result = _gateway(env, "worker")
    assert result.returncode == 3
    named = sorted(line.split(":")[0].strip() for line in result.stderr.strip().splitlines()[1:])
    assert named == ["GATEWAY_LOG_LEVEL", "GATEWAY_PORT"]  # load_settings refuses before any feature reads


def test_db_upgrade_against_a_missing_database_says_so_in_one_line(keys_dir: Path, tmp_path: Path,
                                                                   engine_name: str,
                                                                   db_factory: DatabaseFactory) -> None:
    """Issue 14: a raw SQLAlchemy traceback; now one line naming the URL (no password), exit 4."""
    if engine_name == "postgresql":
        good = make_url(db_factory.empty_url(engine_name))
        url = good.set(database=good.database + "_missing", password="s3cret-pw").render_as_string(hide_password=False)
        cause = "does not exist"
    else:
        url = f"sqlite:///{tmp_path}/a-directory.db"
        (tmp_path / "a-directory.db").mkdir()  # a directory where the database file should be
        cause = "unable to open database file"
    result = _gateway(_env(url, keys_dir), "db", "upgrade")
    assert result.returncode == 4, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gateway: database ") and cause in lines[0]
    assert "s3cret-pw" not in result.stderr and "Traceback" not in result.stderr
    shown = make_url(url).render_as_string(hide_password=True)
    assert shown in lines[0]


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
        try:
            wait_until(lambda: ready(f"http://127.0.0.1:{port}"), timeout=30, what="/readyz", interval=0.2)
        except AssertionError as e:
            raise AssertionError(log_path.read_text()[-2000:]) from e
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
        assert (tmp_path / "var" / "gateway.db").exists()
        assert len(list((tmp_path / "keys").glob("*.dev.pem"))) == 1
    finally:
        proc.terminate()
        proc.wait(timeout=30)
