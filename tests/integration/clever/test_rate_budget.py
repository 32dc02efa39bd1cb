"""One rate budget per Clever token for the whole deployment (issue 12 #2).

Every call with a district token, from any process and any client (sync, writeback, CLI), draws from one budget
in the database; Clever's 429s and ``X-RateLimit-Remaining: 0`` block the token for all of them until the reset.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gateway.clever.errors import CleverRateLimited
from gateway.clever.ratelimit import BudgetExhausted, StoreRateLimiter
from gateway.store import Database
from sandbox.clever import CleverSim
from tests.support.clever_roster import SeededDistrict, connect_and_sync, seed_district, sync_now
from tests.support.clever_sim import RunningClever, clever_settings
from tests.support.gateway import GatewayUnderTest
from tests.support.processes import REPO, process_env
from tests.support.waiting import wait_until
from tests.support.writeback_worlds import CleverWorld

CLEVERS_LIMIT = 1200  # Clever's own: requests a minute per token, as the simulator holds it
CALLS_PER_PROCESS = 650  # two processes together ask for more than Clever allows in a minute


def _district_calls(sim: CleverSim) -> int:
    return sum(1 for r in sim.requests if r.auth == "district")


def test_two_processes_share_one_budget_and_clever_never_says_429(database_url: str, keys_dir: Path,
                                                                  clever: RunningClever) -> None:
    sim = clever.sim
    assert sim.rate_limit == CLEVERS_LIMIT
    seeded = seed_district(sim, students=1)
    token = sim.token_for(seeded.district)
    env = process_env(database_url, keys_dir, **clever_settings(clever, clever_max_rate_limit_wait_seconds=0,
                                                                clever_max_retries=0), http_timeout_seconds=10)
    started = time.time()
    procs = [subprocess.Popen([sys.executable, "-m", "tests.support.clever_budget_proc", token,
                               str(CALLS_PER_PROCESS)], cwd=REPO, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for _ in range(2)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()[-2000:]
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    crossed = int(started // 60) != int(time.time() // 60)  # a new minute began: a second window's budget
    assert sim.throttled == 0 and sum(r["clever_429"] for r in results) == 0
    answered = sum(r["answered"] for r in results)
    assert answered + sum(r["held_back"] for r in results) == 2 * CALLS_PER_PROCESS
    assert answered == _district_calls(sim)
    budget = 1100  # GATEWAY_CLEVER_RATE_LIMIT_PER_MINUTE's default: Clever's 1,200 less headroom
    assert answered <= budget * (2 if crossed else 1)


def test_clever_saying_remaining_0_holds_every_call_until_the_reset(clever_gateway: GatewayUnderTest,
                                                                    clever: RunningClever) -> None:
    sim = clever.sim
    seeded = seed_district(sim, students=1)
    connect_and_sync(clever_gateway)
    sim.rate_limit, sim.rate_window = 3, 600.0  # a small window that outlasts the test
    client, token = clever_gateway.services.clever.client, sim.token_for(seeded.district)
    sim.windows.clear()
    for _ in range(3):
        client.districts(token)  # the third answer says X-RateLimit-Remaining: 0
    before = len(sim.requests)
    with pytest.raises(CleverRateLimited) as held:
        client.districts(token)  # the reset is beyond the 5 s the test settings let a call wait
    assert held.value.clever_status == 0 and held.value.retry_after is not None
    assert len(sim.requests) == before and sim.throttled == 0


def _rate_limit_the_sync(world_sim: CleverSim, gw: GatewayUnderTest, seeded: SeededDistrict) -> None:
    """The sync meets a 429 whose reset is beyond the wait cap: it fails, and the token is blocked."""
    switches = world_sim.switches
    switches.prefix, switches.method, switches.rate_limited, switches.rate_limit_reset_in = "/v3.1/", "GET", 1, 600.0
    district = sync_now(gw, seeded.district, full=True)
    assert district["sync"]["last"]["error_code"] == "CLEVER_RATE_LIMITED"
    assert switches.rate_limited == 0  # the 429 was answered


def test_after_a_429_no_call_with_the_token_goes_out_before_the_reset(cleverw: CleverWorld) -> None:
    """The sync's 429 holds the writeback client too (one budget, not one per client)."""
    world, sim = cleverw, cleverw.clever.sim
    made = world.create()
    world.api.settle(made["delivery"]["id"])
    _rate_limit_the_sync(sim, world.gateway, world.seeded)
    calls = _district_calls(sim)
    graded = world.grade(made["assignment"]["id"], world.seeded.students[0], score_given=1, score_maximum=2)

    def held() -> bool:
        shown = world.api.delivery(graded["delivery"]["id"])
        return shown["state"] == "queued" and "rate limit" in (shown["detail"] or "")

    wait_until(held)
    shown = world.api.delivery(graded["delivery"]["id"])
    assert shown["attempts"] == 0, shown  # held back, not sent: no attempt spent (issue 12 #7)
    assert _district_calls(sim) == calls  # the grade was held back, not sent into Clever's 429
    assert world.writes() == []
    # The CLI-style direct call is held back too, without reaching Clever.
    with pytest.raises(CleverRateLimited):
        world.gateway.services.clever.client.districts(sim.token_for(world.seeded.district))
    assert _district_calls(sim) == calls


class _Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_030.0  # 30 s into a minute
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_store_budget_is_one_window_per_token_across_limiters(database_url: str) -> None:
    """Two limiters on two connections pools (as two processes have) spend one window; a block holds both."""
    clock = _Clock()
    dbs = [Database(database_url), Database(database_url)]
    try:
        first, second = (StoreRateLimiter(db, 3, clock=clock.time, sleep=clock.sleep) for db in dbs)
        assert [first.acquire("t", 0), second.acquire("t", 0), first.acquire("t", 0)] == [0.0, 0.0, 0.0]
        with pytest.raises(BudgetExhausted) as spent:
            second.acquire("t", 0)
        assert (spent.value.wait, spent.value.blocked) == (30.0, False)
        assert second.acquire("other", 0) == 0.0  # another token has its own budget
        assert second.acquire("t") == 30.0 and clock.slept == [30.0]  # waits for the next minute, then takes
        first.block_until("t", clock.now + 100)
        first.block_until("t", clock.now + 5)  # never shortened
        with pytest.raises(BudgetExhausted) as blocked:
            second.acquire("t", 50)
        assert (blocked.value.wait, blocked.value.blocked) == (100.0, True)
        first.block_until("t", clock.now + 7200)
        clock.now += 3601
        assert first.purge_idle() == 1  # "other", idle an hour; "t" is kept while blocked
    finally:
        for db in dbs:
            db.dispose()
