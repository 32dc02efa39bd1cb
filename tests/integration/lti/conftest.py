"""Fixtures: a gateway and the simulated LMS on loopback, registered with each other; the CLI in-process."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway.cli import main
from tests.support.databases import DatabaseFactory
from tests.support.gateway import TEST_ENCRYPTION_KEYS
from tests.support.lti_sandbox import LtiWorld, lti_world

Run = Callable[..., tuple[int, str, str]]  # run(*argv, stdin="") -> (exit code, stdout, stderr)


@pytest.fixture
def run(sqlite_url: str, keys_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """``gateway …`` in this process on a fresh SQLite database, with what it reads on standard input."""
    monkeypatch.setenv("GATEWAY_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(keys_dir))
    monkeypatch.setenv("GATEWAY_ENV", "test")
    monkeypatch.setenv("GATEWAY_PUBLIC_BASE_URL", "https://gateway.example.edu")
    monkeypatch.setenv("GATEWAY_ENCRYPTION_KEYS", TEST_ENCRYPTION_KEYS)

    def call(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


@pytest.fixture
def world(sqlite_url: str, keys_dir: Path) -> Iterator[LtiWorld]:
    """A fresh gateway (SQLite) and platform for one test."""
    with lti_world(sqlite_url, keys_dir) as made:
        yield made


@pytest.fixture(scope="module")
def shared_world(db_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LtiWorld]:
    """One gateway and platform for a module's parametrized matrix.

    Each case asserts on what *it* changed (row counts before and after), so cases stay independent
    while the expensive set-up (two RSA keys, two servers) happens once per worker.
    """
    keys = tmp_path_factory.mktemp("keys")
    with lti_world(db_factory.sqlite_url(), keys) as made:
        yield made
