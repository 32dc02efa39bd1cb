"""Clever misbehaves under the real LMS Connect backend: the right rows retry, fail or die, and every grade
that should arrive arrives exactly once, exactly as sent.

Cases share one world per module (``shared_clever``); each makes its own assignment and looks only at it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sandbox.clever import create_app
from tests.support.clever_roster import sync_now
from tests.support.live import LiveServer
from tests.support.waiting import wait_until
from tests.support.writeback_worlds import CleverWorld, clever_world, running

# One worker runs this module, so its module-scoped world (servers, keys, launches) is built once.
pytestmark = pytest.mark.xdist_group(__name__)


def _assignment(world: CleverWorld) -> tuple[str, str]:
    """An assignment created in Clever, and the path prefix of its submissions there."""
    made = world.create()
    world.api.settle(made["delivery"]["id"])
    asg = made["assignment"]["id"]
    remote = world.api.ok("GET", f"/api/v1/contexts/{world.context_id}/assignments/{asg}", 200)["remote"]["id"]
    return asg, f"/v3.1/sections/{world.seeded.section}/assignments/{remote}/submissions"


def _arrived(world: CleverWorld, prefix: str) -> list[dict[str, object]]:
    return [body for path, body in world.writes() if path.startswith(prefix)]


AS_SENT = {"grade_points": 13.0, "grade": "13", "grade_comment": "ok"}


def _grade(world: CleverWorld, asg: str) -> str:
    graded = world.grade(asg, world.seeded.students[0], score_given=6.5, score_maximum=10, comment="ok")
    return str(graded["delivery"]["id"])


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried_until_the_grade_arrives_once(shared_clever: CleverWorld, status: int) -> None:
    world = shared_clever
    asg, prefix = _assignment(world)
    world.clever.sim.switches.prefix, world.clever.sim.switches.failures = prefix, [status, status]
    [done] = world.api.settle(_grade(world, asg))
    assert (done["state"], done["attempts"]) == ("delivered", 3)
    assert _arrived(world, prefix) == [AS_SENT]


def test_rate_limits_wait_for_the_reset(shared_clever: CleverWorld) -> None:
    world = shared_clever
    asg, prefix = _assignment(world)
    switches = world.clever.sim.switches
    switches.prefix, switches.rate_limited, switches.rate_limit_reset_in = prefix, 1, 1.0
    delivery = _grade(world, asg)

    def throttled() -> bool:
        shown = world.api.delivery(delivery)
        return (shown["attempts"], shown["state"]) == (1, "queued")

    wait_until(throttled)
    waiting = world.api.delivery(delivery)
    assert waiting["remote"]["status"] == 429
    # Issue 12 #6: the report names the cause and keeps Clever's rate-limit headers.
    assert waiting["remote"]["headers"]["X-RateLimit-Reset"].isdigit()
    assert "rate limit" in waiting["detail"] and "CLEVER_RATE_LIMITED" in waiting["detail"]
    assert waiting["result"] == {"error_code": "CLEVER_RATE_LIMITED"}
    gap = dt.datetime.fromisoformat(waiting["next_attempt_at"]) - dt.datetime.fromisoformat(waiting["last_attempt_at"])
    assert gap >= dt.timedelta(seconds=0.5)  # X-RateLimit-Reset is a Unix time one second ahead
    assert world.api.settle(delivery)[0]["state"] == "delivered"
    assert _arrived(world, prefix) == [AS_SENT]


def test_a_clever_that_hangs_past_the_timeout_is_retried(shared_clever: CleverWorld) -> None:
    world = shared_clever
    asg, prefix = _assignment(world)
    switches = world.clever.sim.switches
    switches.prefix, switches.hang, switches.hang_seconds = prefix, 1, 3.5  # the LMS timeout is 2.5 s
    [done] = world.api.settle(_grade(world, asg))
    assert (done["state"], done["attempts"]) == ("delivered", 2)
    assert _arrived(world, prefix) == [AS_SENT]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409])
def test_refusals_fail_at_once_with_clevers_message_kept(shared_clever: CleverWorld, status: int) -> None:
    world = shared_clever
    asg, prefix = _assignment(world)
    world.clever.sim.switches.prefix, world.clever.sim.switches.failures = prefix, [status]
    [done] = world.api.settle(_grade(world, asg))
    assert (done["state"], done["attempts"], done["remote"]["status"]) == ("failed", 1, status)
    assert "Internal Error" in done["remote"]["body"]
    assert _arrived(world, prefix) == []


def test_a_grade_out_of_attempts_dies_and_a_replay_delivers_it_once(shared_clever: CleverWorld) -> None:
    world = shared_clever
    asg, prefix = _assignment(world)
    world.clever.sim.switches.prefix, world.clever.sim.switches.failures = prefix, [500] * 5  # max attempts is 5
    delivery = _grade(world, asg)
    [dead] = world.api.settle(delivery)
    assert (dead["state"], dead["attempts"]) == ("dead", 5)
    world.api.ok("POST", "/api/v1/deliveries/replay", json={"ids": [delivery]})
    assert world.api.settle(delivery)[0]["state"] == "delivered"
    assert _arrived(world, prefix) == [AS_SENT]


def test_a_grade_queued_before_its_assignment_exists_waits_for_it(shared_clever: CleverWorld,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    """Issue 12 #7: waiting is a state, not a retry: it spends no attempt and logs no retry warning."""
    world = shared_clever
    world.clever.sim.switches.prefix = f"/v3.1/sections/{world.seeded.section}/assignments"
    # The creation needs three attempts, each after Clever's reset: the grade is claimed (and waits) meanwhile.
    world.clever.sim.switches.rate_limited, world.clever.sim.switches.rate_limit_reset_in = 2, 1.5
    registry = world.services.metrics.registry
    labels = {"backend": "clever", "kind": "grade", "outcome": "wait", "status": "none"}
    waits = registry.get_sample_value("gateway_deliveries_total", labels) or 0
    made = world.create()
    delivery = _grade(world, made["assignment"]["id"])
    with caplog.at_level("INFO", logger="gateway.writeback.attempt"):
        created, graded = world.api.settle(made["delivery"]["id"], delivery)
    assert (created["attempts"], graded["state"], graded["attempts"]) == (3, "delivered", 1)
    assert (registry.get_sample_value("gateway_deliveries_total", labels) or 0) > waits
    mine = [r for r in caplog.records if getattr(r, "fields", {}).get("delivery_id") == delivery]
    assert mine and all(r.levelname == "INFO" for r in mine), [(r.levelname, r.getMessage()) for r in mine]
    remote = world.api.ok("GET", f"/api/v1/contexts/{world.context_id}/assignments/{made['assignment']['id']}",
                          200)["remote"]["id"]
    assert _arrived(world, f"/v3.1/sections/{world.seeded.section}/assignments/{remote}/") == [AS_SENT]


def test_a_refused_connection_is_retried_until_clever_is_back(sqlite_url: str, keys_dir: Path) -> None:
    with clever_world(sqlite_url, keys_dir) as world:
        asg, prefix = _assignment(world)
        port = world.clever.server.port
        world.clever.server.stop()
        delivery = _grade(world, asg)
        wait_until(lambda: world.api.delivery(delivery)["attempts"] >= 2)
        waiting = world.api.delivery(delivery)
        assert waiting["state"] in ("queued", "delivering") and "no answer from Clever" in waiting["detail"]
        back = LiveServer(create_app(world.clever.sim), port=port).start()
        try:
            assert world.api.settle(delivery)[0]["state"] == "delivered"
        finally:
            back.stop()
        assert _arrived(world, prefix) == [AS_SENT]


def test_a_section_or_student_no_longer_ready_at_delivery_fails_with_the_reason(sqlite_url: str,
                                                                               keys_dir: Path) -> None:
    with clever_world(sqlite_url, keys_dir, worker=False) as world:
        sim, kids = world.clever.sim, world.seeded.students
        made = world.create()
        with running(world.services):
            world.api.settle(made["delivery"]["id"])
        asg = made["assignment"]["id"]
        ready, unmatched = (world.grade(asg, kid)["delivery"]["id"] for kid in kids[:2])
        sim.update(kids[1], lms_status={"synced_in_lms": False})  # Clever unmatches the student meanwhile
        sync_now(world.gateway, world.seeded.district, full=True)
        with running(world.services):
            done = world.api.settle(ready, unmatched)
        assert [d["state"] for d in done] == ["delivered", "failed"]
        assert "not matched this student to the LMS" in done[1]["detail"]
        later = world.grade(asg, kids[2])["delivery"]["id"]
        sim.update(world.seeded.section, lms_status={"synced_in_lms": False})
        sync_now(world.gateway, world.seeded.district, full=True)
        with running(world.services):
            [refused] = world.api.settle(later)
        assert refused["state"] == "failed" and "not ready for this section" in refused["detail"]
        assert "synced_in_lms" in refused["detail"]
        assert len(world.writes()) == 1


def test_an_html_answer_is_reported_as_html_with_its_code(shared_clever: CleverWorld) -> None:
    """Issue 12 #6: not "Clever answered 404" with the reason hidden in the body."""
    world = shared_clever
    asg, prefix = _assignment(world)
    world.clever.sim.switches.prefix, world.clever.sim.switches.html = prefix, 1
    [done] = world.api.settle(_grade(world, asg))
    assert (done["state"], done["attempts"]) == ("failed", 1)
    assert "HTML, not JSON: check the district token" in done["detail"] and "CLEVER_WRONG_TOKEN" in done["detail"]
    assert done["result"] == {"error_code": "CLEVER_WRONG_TOKEN"}


def test_a_401_rereads_the_token_list_once_and_a_new_token_delivers(cleverw: CleverWorld) -> None:
    """Issue 12 #9: the district re-authorized the app (a new token) since the last token sync; the grade's 401
    re-reads Clever's token list, as the sync does, and goes out with the new token in the same attempt."""
    world, sim = cleverw, cleverw.clever.sim
    asg, prefix = _assignment(world)
    sim.revoke_district(world.seeded.district)
    sim.connect_district(world.seeded.district)
    lists = sum(1 for r in sim.requests if r.method == "GET" and r.path == "/oauth/tokens")
    [done] = world.api.settle(_grade(world, asg))
    assert (done["state"], done["attempts"]) == ("delivered", 1)
    assert _arrived(world, prefix) == [AS_SENT]
    assert sum(1 for r in sim.requests if r.method == "GET" and r.path == "/oauth/tokens") == lists + 1


def test_a_401_with_no_new_token_fails_after_one_reread(cleverw: CleverWorld) -> None:
    world, sim = cleverw, cleverw.clever.sim
    asg, prefix = _assignment(world)
    sim.revoke_district(world.seeded.district)  # disconnected for good: the list no longer has it
    lists = sum(1 for r in sim.requests if r.method == "GET" and r.path == "/oauth/tokens")
    [done] = world.api.settle(_grade(world, asg))
    assert (done["state"], done["attempts"], done["remote"]["status"]) == ("failed", 1, 401)
    assert "CLEVER_TOKEN_REJECTED" in done["detail"]
    assert sum(1 for r in sim.requests if r.method == "GET" and r.path == "/oauth/tokens") == lists + 1
    assert _arrived(world, prefix) == []


def test_a_create_whose_answer_was_lost_is_not_sent_again(shared_clever: CleverWorld) -> None:
    """Issue 12 #8: Clever made the assignment but its answer was lost (500). LMS Connect cannot look it up, so the
    gateway does not POST again (no silent duplicate): the delivery, the assignment and a metric say it may exist."""
    world = shared_clever
    switches = world.clever.sim.switches
    switches.prefix, switches.method, switches.lose_answers = f"/v3.1/sections/{world.seeded.section}/assignments", \
        "POST", 1
    registry = world.services.metrics.registry
    metric = ("gateway_writeback_possible_duplicates_total", {"backend": "clever"})
    before, posts = registry.get_sample_value(*metric) or 0, len(world.writes("POST", "/assignments"))
    made = world.create()
    [done] = world.api.settle(made["delivery"]["id"])
    assert (done["state"], done["attempts"], done["remote"]["status"]) == ("failed", 1, 500)
    assert done["result"] == {"error_code": "CLEVER_UNAVAILABLE", "possibly_applied": True}
    assert "may have reached Clever" in done["detail"]
    assert len(world.writes("POST", "/assignments")) == posts + 1  # Clever made exactly one
    assert registry.get_sample_value(*metric) == before + 1
    shown = world.api.ok("GET", f"/api/v1/contexts/{world.context_id}/assignments/{made['assignment']['id']}", 200)
    assert shown["remote"]["state"] == "failed" and shown["remote"]["detail"] == {"possibly_created": True}
