"""``gateway clever ...`` against the simulated Clever: discover tokens, sync rosters, list districts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.cli import main
from tests.support.clever_roster import seed_district
from tests.support.clever_sim import RunningClever, clever_settings
from tests.support.gateway import TEST_ENCRYPTION_KEYS


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, sqlite_url: str, keys_dir: Path, clever: RunningClever) -> None:
    values = {"env": "test", "database_url": sqlite_url, "keys_dir": str(keys_dir),
              "encryption_keys": TEST_ENCRYPTION_KEYS, "secret_key": "cli-secret-" + "x" * 32,
              "log_level": "WARNING", **clever_settings(clever)}
    for name, value in values.items():
        monkeypatch.setenv("GATEWAY_" + name.upper(), str(value))


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_districts_sync_then_roster_sync(cli_env: None, clever: RunningClever,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    seeded = seed_district(clever.sim)
    code, out = _run(capsys, "clever", "districts", "sync", "--json")
    assert code == 0
    assert json.loads(out)["connected"] == 1
    code, out = _run(capsys, "clever", "roster", "sync", "--json")
    assert code == 0
    [outcome] = json.loads(out)
    assert (outcome["district_id"], outcome["ok"], outcome["mode"]) == (seeded.district, True, "full")
    code, out = _run(capsys, "clever", "roster", "sync", seeded.district, "--json")
    assert (code, json.loads(out)[0]["mode"]) == (0, "events")
    code, out = _run(capsys, "clever", "districts", "list")
    assert code == 0 and f"id={seeded.district}" in out and "status=connected" in out and "sync=succeeded" in out
    assert "failures=0" in out

    clever.sim.revoke_district(seeded.district)
    code, out = _run(capsys, "clever", "districts", "sync", "--json")
    assert (code, json.loads(out)["disconnected"]) == (0, 1)


def test_a_malformed_token_list_is_reported_and_changes_nothing(cli_env: None, clever: RunningClever,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    seed_district(clever.sim)
    assert _run(capsys, "clever", "districts", "sync", "--json")[0] == 0
    clever.sim.switches.prefix, clever.sim.switches.bodies = "/oauth/tokens", [{"data": None}]
    code = main(["clever", "districts", "sync"])
    assert (code, "CLEVER_BAD_RESPONSE" in capsys.readouterr().err) == (1, True)
    code, out = _run(capsys, "clever", "districts", "list")
    assert code == 0 and "status=connected" in out


def test_wrong_client_secret_is_reported(cli_env: None, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GATEWAY_CLEVER_CLIENT_SECRET", "wrong")
    code = main(["clever", "districts", "sync"])
    assert code == 1
    assert "CLEVER_TOKEN_REJECTED" in capsys.readouterr().err
