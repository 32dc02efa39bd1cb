"""Fixtures: the simulated Clever (spec-checked at teardown), gateways wired to it, a browser, a fake clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gateway.clever.client import CleverClient, build_client
from gateway.http import HttpClient
from gateway.ops.metrics import Metrics
from gateway.settings import load_settings
from tests.support.clever_sim import Browser, RunningClever, clever_settings, start_clever, start_gateway_with_clever
from tests.support.gateway import GatewayUnderTest


@dataclass
class FakeClock:
    """Shared by the simulator and the client under test, so waits for rate-limit windows take no real time."""

    now: float = field(default_factory=time.time)
    slept: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def time(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.slept.append(seconds)
            self.now += seconds


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


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
def clever_on_fake_clock(fake_clock: FakeClock) -> Iterator[RunningClever]:
    running = start_clever(clock=fake_clock.time)
    try:
        yield running
    finally:
        running.close()
    running.spec.assert_clean()


@pytest.fixture
def client(clever_on_fake_clock: RunningClever, fake_clock: FakeClock) -> Iterator[CleverClient]:
    """The gateway's Clever client aimed at the simulator, sleeping on the fake clock."""
    settings = load_settings(environ={}, env="test", **clever_settings(clever_on_fake_clock))
    http = HttpClient(Metrics(), timeout=5)
    yield build_client(settings, http, clock=fake_clock.time, sleep=fake_clock.sleep)
    http.close()


def _gateway(database_url: str, keys_dir: Path, clever: RunningClever) -> Iterator[GatewayUnderTest]:
    with start_gateway_with_clever(database_url, keys_dir, clever) as gw:
        yield gw


@pytest.fixture
def clever_gateway(sqlite_url: str, keys_dir: Path, clever: RunningClever) -> Iterator[GatewayUnderTest]:
    """A live gateway on SQLite whose Clever is the simulator."""
    yield from _gateway(sqlite_url, keys_dir, clever)


@pytest.fixture
def clever_gateway_on(database_url: str, keys_dir: Path, clever: RunningClever) -> Iterator[GatewayUnderTest]:
    """The same on SQLite and PostgreSQL."""
    yield from _gateway(database_url, keys_dir, clever)


@pytest.fixture
def browser() -> Iterator[Browser]:
    b = Browser()
    yield b
    b.close()
