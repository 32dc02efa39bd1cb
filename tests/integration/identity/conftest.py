"""Fixtures: a gateway with the simulated LMS and Clever, for one test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.identity.world import IdentityWorld, identity_world


@pytest.fixture
def world(sqlite_url: str, keys_dir: Path) -> Iterator[IdentityWorld]:
    with identity_world(sqlite_url, keys_dir) as made:
        yield made


@pytest.fixture
def world_on(database_url: str, keys_dir: Path) -> Iterator[IdentityWorld]:
    """The same on SQLite and PostgreSQL."""
    with identity_world(database_url, keys_dir) as made:
        yield made
