"""Outbox fixtures (writeback and runtime tests): a flaky remote, services with fast retries, running workers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.bootstrap import Services, bootstrap, build_worker
from gateway.runtime import Worker
from gateway.store.models.base import utcnow
from gateway.store.models.writeback import OutboxRow
from gateway.store.repositories.outbox import OutboxRepository
from gateway.writeback.outbox import OutboxItem
from tests.support.flaky_remote import FlakyRemote, start_flaky_remote, stop_flaky_remote
from tests.support.gateway import GatewayUnderTest, make_test_settings, start_gateway
from tests.support.http_backend import BACKEND, with_test_backend
from tests.support.waiting import wait_until

# Short enough that a whole retry ladder takes a fraction of a second, long enough to mean something.
FAST: dict[str, Any] = {
    "writeback_backoff_base_seconds": 0.02,
    "writeback_backoff_cap_seconds": 0.1,
    "writeback_poll_seconds": 0.02,
    "writeback_lease_seconds": 2.0,
    "writeback_max_delivery_seconds": 10.0,
    "writeback_max_attempts": 4,
    "writeback_retry_after_max_seconds": 5.0,
    # A total deadline (connect and every read): generous enough for a loaded machine, short for the hang tests.
    "http_timeout_seconds": 2.0,
}


def enqueue(
    services: Services,
    *,
    case: str = "",
    key: str | None = None,
    kind: str = "grade",
    backend: str = BACKEND,
    api_key_id: str | None = None,
    event_at: Any = None,
    **payload: Any,
) -> str:
    with services.db.transaction() as s:
        made = services.outbox.enqueue(
            s,
            OutboxItem(kind=kind, backend=backend, ordering_key=key or f"case:{case or utcnow().isoformat()}",
                       payload={"case": case, **payload}, api_key_id=api_key_id, event_at=event_at),
        )
    return made.id


def row(services: Services, delivery_id: str) -> OutboxRow:
    with services.db.transaction() as s:
        found = OutboxRepository(s).get(delivery_id)
        assert found is not None
        return found


def state_of(services: Services, delivery_id: str) -> str:
    return row(services, delivery_id).state


def settle(services: Services, *ids: str, states: tuple[str, ...] = ("delivered", "failed", "dead")) -> None:
    wait_until(lambda: all(state_of(services, i) in states for i in ids), what=f"{ids} to reach {states}")


@contextlib.contextmanager
def running(services: Services, concurrency: int = 2) -> Iterator[Worker]:
    worker = build_worker(services, concurrency=concurrency)
    thread = worker.start_thread()
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(timeout=15)
        assert not thread.is_alive(), "the worker did not stop"


@pytest.fixture
def remote() -> Iterator[FlakyRemote]:
    made = start_flaky_remote()
    yield made
    stop_flaky_remote(made)
    assert not made.overlaps, f"deliveries in flight twice at once: {made.overlaps}"


def make_services(database_url: str, keys_dir: Path, remote: FlakyRemote, **overrides: Any) -> Services:
    return with_test_backend(bootstrap(make_test_settings(database_url, keys_dir, **{**FAST, **overrides})),
                             remote.url)


@pytest.fixture
def wb(database_url: str, keys_dir: Path, remote: FlakyRemote) -> Iterator[Services]:
    """Services on each engine with fast retries and the test backend posting to ``remote``."""
    services = make_services(database_url, keys_dir, remote)
    yield services
    services.close()


@pytest.fixture
def wb_gateway(database_url: str, keys_dir: Path, remote: FlakyRemote) -> Iterator[GatewayUnderTest]:
    """A live gateway on each engine with fast retries and the test backend; checks openapi.yaml at teardown."""
    gw = start_gateway(database_url, keys_dir, **FAST)
    with_test_backend(gw.services, remote.url)
    try:
        yield gw
    finally:
        gw.close()
    gw.contract.assert_clean()


def force(services: Services, delivery_id: str, **values: Any) -> None:
    """Arrange a row's state directly (tests own their data; the worker path is tested elsewhere)."""
    with services.db.transaction() as s:
        target = OutboxRepository(s).get(delivery_id)
        assert target is not None
        for name, value in values.items():
            setattr(target, name, value)
