"""Fixtures: the simulated LMS registered with a gateway, a dev-mode gateway, and the simulated Clever (spec-checked
at teardown)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.clever_sim import RunningClever, start_clever
from tests.support.gateway import GatewayUnderTest
from tests.support.lti_sandbox import LtiWorld, lti_world, start_dev_gateway


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


@pytest.fixture
def dev_gateway(sqlite_url: str, keys_dir: Path) -> Iterator[GatewayUnderTest]:
    """A real ``gateway serve``-like server in dev mode: the sandbox plugin mounted, as ``make run`` has it."""
    with start_dev_gateway(sqlite_url, keys_dir) as gateway:
        yield gateway
