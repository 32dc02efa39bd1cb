"""The launch hot path's budget, counted, not timed: SQL statements, transactions, new connections, outbound calls.

Budgets (each request is one transaction; a warm path opens no connection and calls no one):

* login, warm: 1 statement, the login state's INSERT (registration and deployment come from the cache);
* launch, warm (a known user in a known course): 8 statements: the login state's read and its single-use
  UPDATE, the identity with its user, the course with its placement, the identity match with "has an open
  conflict", the course membership, and the launch record's and its code's INSERTs;
* launch, warm, without a course (LTI 1.3 makes ``context`` optional): within the same 8 (it skips the course,
  placement and membership);
* launch, first (a new user and course): 16 statements: the warm ones plus the rows a first launch makes
  (user, identity, course, placement, match, membership) and the lookups that find they are missing;
* redeem, warm: 2 statements: the code's UPDATE ... RETURNING and the launch record's read;
* an LTI 1.1 migration claim adds nothing to a warm launch (its secret comes with the cached registration), and one
  read to a first launch (the gateway user the 1.1 identity already is).

A cold cache costs the registration and deployment reads once per process (and once per ``GATEWAY_CACHE_SECONDS``).
Run on both engines.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from sqlalchemy import Engine, event, func, select

from gateway.store.models.core import UserRow
from sandbox.lms.platform import SANDBOX_LTI11_SECRET, LaunchIntent, Lti1p1Claim
from tests.support.lti_flow import Browser, parse_page
from tests.support.lti_sandbox import LtiWorld, lti_world

LOGIN_WARM = 1
LAUNCH_WARM = 8
LAUNCH_FIRST = 16
REDEEM_WARM = 2


@dataclass
class Counted:
    statements: list[str] = field(default_factory=list)
    transactions: int = 0
    connections: int = 0


class StatementCounter:
    """Counts what one request does on the gateway's engine (requests here run one at a time)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.current: Counted | None = None
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "begin", self._begin)
        event.listen(engine.pool, "connect", self._connect)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.current is not None:
            self.current.statements.append(" ".join(statement.split())[:160])

    def _begin(self, _conn: Any) -> None:
        if self.current is not None:
            self.current.transactions += 1

    def _connect(self, *_args: Any) -> None:
        if self.current is not None:
            self.current.connections += 1

    def measure(self, call: Any) -> tuple[Any, Counted]:
        self.current = Counted()
        try:
            return call(), self.current
        finally:
            self.current = None

    def close(self) -> None:
        event.remove(self._engine, "before_cursor_execute", self._statement)
        event.remove(self._engine, "begin", self._begin)
        event.remove(self._engine.pool, "connect", self._connect)


@pytest.fixture
def world_on(database_url: str, keys_dir: Path) -> Iterator[LtiWorld]:
    # A long cache life: what is counted is the warm path, not when a slow first step lets an entry expire.
    with lti_world(database_url, keys_dir, cache_seconds=600) as made:
        yield made


@dataclass
class Steps:
    login: Counted
    launch: Counted
    redeem: Counted
    record: dict[str, Any]


def _outbound(world: LtiWorld) -> float:
    registry = world.gateway.services.core.metrics.registry
    return sum(
        sample.value
        for metric in registry.collect() if metric.name == "gateway_outbound_responses"
        for sample in metric.samples if sample.name.endswith("_total")
    )


def _launch_counted(world: LtiWorld, counter: StatementCounter, key: str, intent: LaunchIntent | None = None) -> Steps:
    browser = world.browser()
    login_url = world.platform.prepare(intent)
    login, on_login = counter.measure(lambda: browser.get(login_url))
    assert login.status_code == 302, login.text
    auth_url = urljoin(login_url, login.headers["Location"])
    form = parse_page(browser.get(auth_url).text)
    assert form.action is not None
    answer, on_launch = counter.measure(lambda: browser.post(urljoin(auth_url, form.action), dict(form.fields)))
    assert answer.status_code == 303, answer.text
    code = answer.headers["Location"].split("code=")[1].split("&")[0]
    redeemed, on_redeem = counter.measure(lambda: world.redeem(code, key=key))
    assert redeemed.status_code == 200, redeemed.text
    return Steps(on_login, on_launch, on_redeem, redeemed.json())


def _within(counted: Counted, budget: int, what: str) -> None:
    listing = "\n  ".join(counted.statements)
    assert len(counted.statements) <= budget, f"{what}: {len(counted.statements)} statements:\n  {listing}"
    assert counted.transactions == 1, f"{what}: {counted.transactions} transactions:\n  {listing}"


def test_login_launch_and_redeem_stay_within_their_statement_budget(world_on: LtiWorld) -> None:
    world = world_on
    counter = StatementCounter(world.gateway.services.db.engine)
    key = world.gateway.api_key("launches")
    try:
        first = _launch_counted(world, counter, key)
        _within(first.launch, LAUNCH_FIRST, "first launch")
        outbound_before = _outbound(world)
        warm = _launch_counted(world, counter, key)
        _launch_counted(world, counter, key)  # the redeem after an hour-old key touch is warm from here on
        again = _launch_counted(world, counter, key)
        no_course = _launch_counted(world, counter, key, LaunchIntent(variant="instructor_email_no_context"))
    finally:
        counter.close()
    _within(warm.login, LOGIN_WARM, "warm login")
    _within(warm.launch, LAUNCH_WARM, "warm launch")
    _within(again.redeem, REDEEM_WARM, "warm redeem")
    _within(no_course.launch, LAUNCH_WARM, "warm launch without a course")
    assert no_course.record["context"] is None and no_course.record["user"]["id"] == first.record["user"]["id"]
    assert [s.connections for s in (warm.login, warm.launch, again.redeem)] == [0, 0, 0], "the pool reconnected"
    assert _outbound(world) == outbound_before, "a warm launch called out (the platform JWKS is cached)"
    # The budget is not bought by skipping work: the warm launch names the same user and course as the first.
    assert warm.record["user"]["id"] == first.record["user"]["id"]
    assert warm.record["context"]["id"] == first.record["context"]["id"]


def test_eight_launches_of_one_user_at_once_all_hand_off(world_on: LtiWorld) -> None:
    """A double-clicking class: 8 launches of one student, concurrently, on a cold user and course. None is lost."""
    world = world_on
    key = world.gateway.api_key("launches")
    prepared = []
    for _ in range(8):
        browser = world.browser()
        login_url = world.platform.prepare(LaunchIntent())
        login = browser.get(login_url)
        auth_url = urljoin(login_url, login.headers["Location"])
        form = parse_page(browser.get(auth_url).text)
        assert form.action is not None
        prepared.append((browser, urljoin(auth_url, form.action), dict(form.fields)))
    answers: list[requests.Response] = []
    lock = threading.Lock()
    gate = threading.Barrier(len(prepared))

    def post(browser: Browser, action: str, fields: dict[str, str]) -> None:
        gate.wait()
        answer = browser.post(action, fields)
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=post, args=args) for args in prepared]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(a.status_code for a in answers) == [303] * 8, [a.text[:300] for a in answers if a.status_code != 303]
    codes = [a.headers["Location"].split("code=")[1].split("&")[0] for a in answers]
    users = {world.redeem(code, key=key).json()["user"]["id"] for code in codes}
    assert len(users) == 1
    with world.gateway.services.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(UserRow)) == 1


def test_a_verified_migration_claim_costs_the_warm_launch_nothing(world_on: LtiWorld) -> None:
    """The 1.1 migration claim is checked from the cached registration (no read for its secret); recording it is
    part of the first launch's INSERT, and a first launch looks once for the gateway user the 1.1 identity is."""
    world = world_on
    admin = world.gateway.api("admin")
    patched = admin.patch(f"{world.gateway.url}/api/v1/admin/lti/registrations/{world.registration.id}",
                          json={"lti11_secret": SANDBOX_LTI11_SECRET}, timeout=10)
    assert patched.status_code == 200, patched.text
    counter = StatementCounter(world.gateway.services.db.engine)
    key = world.gateway.api_key("launches")
    claim = Lti1p1Claim(user_id="old-7", consumer_key="old-key")
    try:
        first = _launch_counted(world, counter, key, LaunchIntent(lti1p1=claim))
        _launch_counted(world, counter, key, LaunchIntent(lti1p1=claim))
        warm = _launch_counted(world, counter, key, LaunchIntent(lti1p1=claim))
    finally:
        counter.close()
    _within(first.launch, LAUNCH_FIRST + 1, "first launch with a migration claim")
    _within(warm.launch, LAUNCH_WARM, "warm launch with a migration claim")
    assert warm.record["lti"]["lti1p1"] == {"oauth_consumer_key": "old-key", "user_id": "old-7"}
    assert warm.record["user"]["id"] == first.record["user"]["id"]
