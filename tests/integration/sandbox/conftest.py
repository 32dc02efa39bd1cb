"""Fixtures: the simulated LMS registered with a gateway, and the simulated Clever (spec-checked at teardown)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.clever_sim import RunningClever, start_clever
from tests.support.lti_sandbox import LtiWorld, lti_world


@pytest.fixture
def world(sqlite_url: str, keys_dir: Path) -> Iterator[LtiWorld]:
    """A fresh gateway (SQLite) and simulated LMS for one test."""
    with lti_world(sqlite_url, keys_dir) as made:
        yield made


@pytest.fixture
def clever() -> Iterator[RunningClever]:
    """A simulated Clever; every response it gave must fit Clever's specs."""
    running = start_clever()
    try:
        yield running
    finally:
        running.close()
    running.spec.assert_clean()
