"""Fixtures shared by every test: databases on both engines and a live gateway on loopback."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.store import Database
from tests.support.databases import ENGINES, DatabaseFactory, database_factory
from tests.support.gateway import GatewayUnderTest, make_test_settings, start_gateway

# Fixtures more than one test package needs (writeback and runtime tests both drive the outbox) live in
# tests/support; registering them here keeps them out of any one package's conftest.
pytest_plugins = ["tests.support.outbox", "tests.support.writeback_worlds"]


@pytest.fixture(scope="session")
def db_factory() -> Iterator[DatabaseFactory]:
    with database_factory() as factory:
        yield factory


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    """Parametrizes a test over SQLite and PostgreSQL."""
    return str(request.param)


@pytest.fixture
def database_url(db_factory: DatabaseFactory, engine_name: str) -> str:
    """A fresh migrated database on each engine (tests using it run twice)."""
    return db_factory.url(engine_name)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    yield db
    db.dispose()


@pytest.fixture
def sqlite_url(db_factory: DatabaseFactory) -> str:
    return db_factory.sqlite_url()


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    path = tmp_path / "keys"
    path.mkdir()
    return path


@pytest.fixture
def gateway(sqlite_url: str, keys_dir: Path) -> Iterator[GatewayUnderTest]:
    """A live gateway on SQLite. Fails the test if any API response broke openapi.yaml."""
    with start_gateway(sqlite_url, keys_dir) as gw:
        yield gw


@pytest.fixture
def gateway_on(database_url: str, keys_dir: Path) -> Iterator[GatewayUnderTest]:
    """A live gateway on each engine (tests using it run on SQLite and PostgreSQL)."""
    with start_gateway(database_url, keys_dir) as gw:
        yield gw


__all__ = ["make_test_settings"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say once, at the end, what a run without the reference folder did not check."""
    from tests.support.clever_spec import MISSING_REASON, specs_available

    if not specs_available():
        terminalreporter.write_line(f"note: {MISSING_REASON}", yellow=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give each schemathesis operation test its own node id. schemathesis names them ``test[GET /x]``, but pytest
    9 builds a node id from the function's name and its parameters, not from the item's name, so all 61 shared one;
    ``make test``'s ``--dist loadgroup`` queues a group's tests by node id: 1 of the 61 contract tests ran, and the
    run said "passed"."""
    for item in items:
        label = getattr(item, "operation_label", None)
        if isinstance(label, str) and not item.nodeid.endswith(f"[{label}]"):
            node_id = item.id
            params = label if node_id.params is None else f"{node_id.params}-{label}"
            item._id = dataclasses.replace(node_id, params=params)  # pytest keeps no public setter


def pytest_collection_finish(session: pytest.Session) -> None:
    """Refuse a run in which two tests share a node id: xdist would run only one of them, silently."""
    counts = Counter(item.nodeid for item in session.items)
    shared = sorted(nodeid for nodeid, n in counts.items() if n > 1)
    if shared:
        raise pytest.UsageError(f"{len(shared)} node ids are shared by several tests (xdist would run one of "
                                f"each): {', '.join(shared[:5])}")
