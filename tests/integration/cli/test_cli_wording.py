"""How the `gateway` command words what it finds and refuses: empty lists, Clever not set up, keys' help."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gateway.cli import main
from tests.support.gateway import TEST_ENCRYPTION_KEYS

# Every list command and what it lists; each says `no <things>` when there are none (issue 14: some printed
# nothing, one said "no deployments").
EMPTY_LISTS = [
    (["api-keys", "list"], "no API keys"),
    (["keys", "list"], "no signing keys"),
    (["registrations", "list"], "no registrations"),
    (["deployments", "list"], "no deployments"),
    (["deliveries", "list"], "no deliveries"),
    (["clever", "districts", "list"], "no districts"),
    (["identity", "conflicts"], "no conflicts"),
    (["identity", "unmatched"], "no unmatched launches"),
    (["identity", "deployments"], "no deployments"),
]


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, sqlite_url: str, keys_dir: Path) -> None:
    for name in [n for n in os.environ if n.startswith("GATEWAY_")]:
        monkeypatch.delenv(name)
    values = {"env": "test", "database_url": sqlite_url, "keys_dir": str(keys_dir),
              "encryption_keys": TEST_ENCRYPTION_KEYS, "log_level": "WARNING"}
    for name, value in values.items():
        monkeypatch.setenv("GATEWAY_" + name.upper(), value)


@pytest.mark.parametrize(("argv", "line"), EMPTY_LISTS, ids=[" ".join(a) for a, _ in EMPTY_LISTS])
def test_an_empty_list_says_so_in_one_wording(cli_env: None, capsys: pytest.CaptureFixture[str], argv: list[str],
                                             line: str) -> None:
    assert main(argv) == 0
    assert capsys.readouterr().out == line + "\n"
    assert main([*argv, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.parametrize("argv", [["clever", "districts", "sync"], ["clever", "roster", "sync"]])
def test_clever_commands_name_the_settings_they_need(cli_env: None, capsys: pytest.CaptureFixture[str],
                                                     argv: list[str]) -> None:
    """Issue 14: "Clever login is not set up", without saying what to set."""
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("error: CLEVER_NOT_CONFIGURED: Clever is not set up here: set GATEWAY_CLEVER_CLIENT_ID "
                             "and GATEWAY_CLEVER_CLIENT_SECRET")


def test_keys_help_tells_generate_from_rotate(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["keys", "--help"], ["keys", "generate", "--help"], ["keys", "rotate", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
        text = " ".join(capsys.readouterr().out.split())
        assert "generate makes the first key" in text and "rotate replaces the signing key" in text
        assert "GATEWAY_KEY_PUBLISH_DELAY_SECONDS" in text and "dev key, *.dev.pem, which no command removes" in text
