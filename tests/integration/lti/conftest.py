"""Fixtures: a gateway and the simulated LMS on loopback, registered with each other."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import DatabaseFactory
from tests.support.lti_sandbox import LtiWorld, lti_world


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
