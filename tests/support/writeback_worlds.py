"""Worlds for the writeback API: a gateway with a running outbox worker, and the LMS or Clever it writes to.

``ags``: the simulated LMS, a teacher and two students who launched the tool in its course (so the
gateway knows the course, its AGS grant and its members). ``clever``: the simulated Clever with a district
synced into the gateway. Both run a real worker thread with short backoffs, and check ``openapi.yaml``
(and, for Clever, Clever's own specs) at teardown.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from gateway.bootstrap import Services, build_worker
from gateway.runtime import Worker
from gateway.store.models.writeback import OutboxRow
from gateway.store.models.writeback_assignments import WritebackAssignmentRow
from gateway.store.repositories.outbox import OutboxRepository
from sandbox.lms.platform import STUDENT, STUDENT_2, TEACHER, LaunchIntent, User
from tests.support.clever_roster import SeededDistrict, connect_and_sync, seed_district
from tests.support.clever_sim import RunningClever, start_clever, start_gateway_with_clever
from tests.support.databases import DatabaseFactory
from tests.support.gateway import GatewayUnderTest
from tests.support.lti_flow import launch
from tests.support.lti_sandbox import LtiWorld, lti_world
from tests.support.waiting import wait_until

# A whole retry ladder in a fraction of a second; a hung remote costs a few seconds.
FAST: dict[str, Any] = {
    "writeback_backoff_base_seconds": 0.02,
    "writeback_backoff_cap_seconds": 0.1,
    "writeback_poll_seconds": 0.02,
    "writeback_lease_seconds": 2.0,
    "writeback_max_delivery_seconds": 10.0,
    "writeback_max_attempts": 5,
    "writeback_retry_after_max_seconds": 5.0,
    "writeback_assignment_wait_seconds": 0.05,
    # Timeouts long enough that a loaded test machine never times out a healthy loopback call.
    "writeback_ags_timeout_seconds": 2.5,
    "clever_lms_timeout_seconds": 2.5,
}


@contextlib.contextmanager
def running(services: Services, concurrency: int = 4) -> Iterator[Worker]:
    worker = build_worker(services, concurrency=concurrency)
    thread = worker.start_thread()
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(timeout=15)
        assert not thread.is_alive(), "the worker did not stop"


def outbox_rows(services: Services) -> list[OutboxRow]:
    with services.db.transaction() as s:
        rows = list(OutboxRepository(s).page(api_key_id=None, limit=100_000))
        s.expunge_all()
        return rows


def counts(services: Services) -> tuple[int, int]:
    """(outbox rows, assignments): a refusal must leave both as they were."""
    with services.db.transaction() as s:
        return (s.scalar(select(func.count()).select_from(OutboxRow)) or 0,
                s.scalar(select(func.count()).select_from(WritebackAssignmentRow)) or 0)


@dataclass
class Api:
    """The vendor's API client against one gateway, with a `writeback` key."""

    gateway: GatewayUnderTest
    session: requests.Session = field(init=False)

    def __post_init__(self) -> None:
        self.session = self.gateway.api("writeback")

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.gateway.url + path, timeout=15, **kwargs)

    def ok(self, method: str, path: str, status: int = 202, **kwargs: Any) -> dict[str, Any]:
        response = self.call(method, path, **kwargs)
        assert response.status_code == status, response.text
        body: dict[str, Any] = response.json()
        return body

    def delivery(self, delivery_id: str) -> dict[str, Any]:
        return self.ok("GET", f"/api/v1/deliveries/{delivery_id}", 200)

    def settle(self, *ids: str, states: tuple[str, ...] = ("delivered", "failed", "dead"),
               timeout: float = 20.0) -> list[dict[str, Any]]:
        wait_until(lambda: all(self.delivery(i)["state"] in states for i in ids), timeout,
                   f"{ids} to reach {states}")
        return [self.delivery(i) for i in ids]


# -- LTI AGS -------------------------------------------------------------------------------------------------


@dataclass
class AgsWorld:
    lti: LtiWorld
    api: Api
    context_id: str
    link_id: str
    teacher: str
    students: tuple[str, ...]

    @property
    def gateway(self) -> GatewayUnderTest:
        return self.lti.gateway

    @property
    def services(self) -> Services:
        return self.lti.gateway.services

    def create(self, **fields: Any) -> dict[str, Any]:
        body = {"title": "Fractions quiz", "points_possible": 10, **fields}
        return self.api.ok("POST", f"/api/v1/contexts/{self.context_id}/assignments", json=body)

    def grade(self, assignment_id: str, user_id: str, **fields: Any) -> dict[str, Any]:
        body = {"score_given": 7, "score_maximum": 10, **fields}
        path = f"/api/v1/contexts/{self.context_id}/assignments/{assignment_id}/grades/{user_id}"
        return self.api.ok("PUT", path, json=body)

    def scores(self, assignment_id: str | None = None) -> list[dict[str, Any]]:
        """Every score the LMS recorded, or those of one assignment's line item."""
        platform = self.lti.platform
        item = None
        if assignment_id is not None:
            shown = self.api.ok("GET", f"/api/v1/contexts/{self.context_id}/assignments/{assignment_id}", 200)
            remote = shown["remote"]["id"]
            item = remote.split("?")[0].rsplit("/", 1)[-1] if remote else ""
        with platform.lock:
            return [dict(s) for key, history in platform.scores.items() for s in history if item in (None, key)]


def launch_record(world: LtiWorld, user: User, **intent: Any) -> dict[str, Any]:
    result = launch(world.browser(), world.platform.prepare(LaunchIntent(user=user, **intent)))
    assert result.code, f"launch refused: {result.error_code}"
    response = world.redeem(result.code)
    assert response.status_code == 200, response.text
    record: dict[str, Any] = response.json()
    return record


@contextlib.contextmanager
def ags_world(database_url: str, keys_dir: Path, *, worker: bool = True, ags: bool = True,
              **settings: Any) -> Iterator[AgsWorld]:
    """``ags=False``: the platform's launches grant no AGS (the course cannot take writes)."""
    with lti_world(database_url, keys_dir, **{**FAST, **settings}) as lti:
        teacher = launch_record(lti, TEACHER, ags=ags)
        students = tuple(launch_record(lti, user, ags=ags)["user"]["id"] for user in (STUDENT, STUDENT_2))
        world = AgsWorld(lti, Api(lti.gateway), teacher["context"]["id"], teacher["resource_link"]["id"],
                         teacher["user"]["id"], students)
        with running(lti.gateway.services) if worker else contextlib.nullcontext():
            yield world


@pytest.fixture
def ags(sqlite_url: str, keys_dir: Path) -> Iterator[AgsWorld]:
    with ags_world(sqlite_url, keys_dir) as world:
        yield world


@pytest.fixture(scope="module")
def _shared_ags(db_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgsWorld]:
    with ags_world(db_factory.sqlite_url(), tmp_path_factory.mktemp("keys")) as world:
        yield world


@pytest.fixture
def shared_ags(_shared_ags: AgsWorld) -> Iterator[AgsWorld]:
    """One world for a module's cases (set-up costs two servers and three launches); each case makes its own
    assignment and asserts on it alone. Injected failures a case left unused are cleared after it."""
    yield _shared_ags
    with _shared_ags.lti.platform.lock:
        _shared_ags.lti.platform.failures.clear()


# -- Clever LMS Connect ------------------------------------------------------------------------------------


@dataclass
class CleverWorld:
    clever: RunningClever
    gateway: GatewayUnderTest
    api: Api
    seeded: SeededDistrict

    @property
    def services(self) -> Services:
        return self.gateway.services

    @property
    def context_id(self) -> str:
        return f"clever:{self.seeded.section}"

    def create(self, **fields: Any) -> dict[str, Any]:
        body = {"title": "Spelling test", "points_possible": 20, **fields}
        return self.api.ok("POST", f"/api/v1/contexts/{self.context_id}/assignments", json=body)

    def grade(self, assignment_id: str, user_id: str, **fields: Any) -> dict[str, Any]:
        body = {"score_given": 7, "score_maximum": 10, **fields}
        path = f"/api/v1/contexts/{self.context_id}/assignments/{assignment_id}/grades/{user_id}"
        return self.api.ok("PUT", path, json=body)

    def writes(self, method: str = "PATCH", contains: str = "/submissions/") -> list[tuple[str, dict[str, Any]]]:
        with self.clever.sim.lock:
            return [(path, body) for m, path, body in self.clever.sim.lms_writes if m == method and contains in path]


@contextlib.contextmanager
def clever_world(database_url: str, keys_dir: Path, *, worker: bool = True, lms_type: str = "canvas",
                 **settings: Any) -> Iterator[CleverWorld]:
    clever = start_clever()
    try:
        seeded = seed_district(clever.sim, students=3)
        clever.sim.records["districts"][seeded.district]["lms_type"] = lms_type
        gateway = start_gateway_with_clever(database_url, keys_dir, clever, **{**FAST, **settings})
        try:
            connect_and_sync(gateway)
            world = CleverWorld(clever, gateway, Api(gateway), seeded)
            with running(gateway.services) if worker else contextlib.nullcontext():
                yield world
        finally:
            gateway.close()
        gateway.contract.assert_clean()
    finally:
        clever.close()
    clever.spec.assert_clean()


@pytest.fixture
def cleverw(sqlite_url: str, keys_dir: Path) -> Iterator[CleverWorld]:
    with clever_world(sqlite_url, keys_dir) as world:
        yield world


@pytest.fixture(scope="module")
def _shared_clever(db_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CleverWorld]:
    with clever_world(db_factory.sqlite_url(), tmp_path_factory.mktemp("keys")) as world:
        yield world


@pytest.fixture
def shared_clever(_shared_clever: CleverWorld) -> Iterator[CleverWorld]:
    """One Clever world for a module's cases; switches a case left set are reset after it."""
    yield _shared_clever
    sim = _shared_clever.clever.sim
    with sim.lock:
        sim.switches = type(sim.switches)()
