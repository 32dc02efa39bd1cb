"""The LMS misbehaves under the real AGS backend: the right rows retry, fail or die, and every grade that
should arrive arrives exactly once, exactly as sent.

Cases share one world per module (``shared_ags``); each makes its own assignment and looks only at it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sandbox.lms import create_lms_app
from tests.support.live import LiveServer
from tests.support.waiting import wait_until
from tests.support.writeback_worlds import AgsWorld, ags_world

# One worker runs this module, so its module-scoped world (servers, keys, launches) is built once.
pytestmark = pytest.mark.xdist_group(__name__)


def _graded(world: AgsWorld) -> tuple[str, str]:
    """An assignment created in the LMS, and a grade for the first student queued for it."""
    made = world.create()
    world.api.settle(made["delivery"]["id"])
    graded = world.grade(made["assignment"]["id"], world.students[0], score_given=6.5, comment="ok")
    return made["assignment"]["id"], graded["delivery"]["id"]


def _exactly_as_sent(world: AgsWorld, assignment_id: str) -> None:
    [score] = world.scores(assignment_id)
    assert (score["userId"], score["scoreGiven"], score["scoreMaximum"], score["comment"]) == (
        "student-1", 6.5, 10, "ok")


@pytest.mark.parametrize(
    ("status", "headers"),
    [(500, {}), (502, {}), (503, {"Retry-After": "0"}), (429, {"Retry-After": "0"}), (408, {})],
    ids=["500", "502", "503", "429", "408"],
)
def test_transient_answers_are_retried_until_the_grade_arrives_once(
        shared_ags: AgsWorld, status: int, headers: dict[str, str]) -> None:
    shared_ags.lti.platform.fail_next("/scores", status, count=2, headers=headers)
    asg, delivery = _graded(shared_ags)
    [done] = shared_ags.api.settle(delivery)
    assert (done["state"], done["attempts"]) == ("delivered", 3)
    _exactly_as_sent(shared_ags, asg)


def test_retry_after_is_honoured(shared_ags: AgsWorld) -> None:
    world = shared_ags
    world.lti.platform.fail_next("/scores", 503, headers={"Retry-After": "1"})
    asg, delivery = _graded(world)

    def retrying() -> bool:
        shown = world.api.delivery(delivery)
        return (shown["attempts"], shown["state"]) == (1, "queued")

    wait_until(retrying)
    waiting = world.api.delivery(delivery)
    assert waiting["remote"] == {"status": 503, "body": '{"error": "injected"}', "headers": {"Retry-After": "1"}}
    gap = dt.datetime.fromisoformat(waiting["next_attempt_at"]) - dt.datetime.fromisoformat(waiting["last_attempt_at"])
    assert gap >= dt.timedelta(seconds=1)
    assert world.api.settle(delivery)[0]["state"] == "delivered"
    _exactly_as_sent(world, asg)


def test_a_remote_that_hangs_past_the_timeout_is_retried(shared_ags: AgsWorld) -> None:
    shared_ags.lti.platform.fail_next("/scores", 503, delay=3.5)  # the AGS timeout is 2.5 s
    asg, delivery = _graded(shared_ags)
    [done] = shared_ags.api.settle(delivery)
    assert (done["state"], done["attempts"]) == ("delivered", 2)
    _exactly_as_sent(shared_ags, asg)


@pytest.mark.parametrize(
    ("status", "state"),
    [(400, "failed"), (403, "failed"), (404, "failed"), (422, "failed"), (409, "delivered")],
    ids=["400", "403", "404", "422", "409-newer-score-kept"],
)
def test_refusals_of_a_score_fail_at_once_with_the_answer_kept(shared_ags: AgsWorld, status: int,
                                                               state: str) -> None:
    shared_ags.lti.platform.fail_next("/scores", status, body={"error": f"refused {status}"})
    asg, delivery = _graded(shared_ags)
    [done] = shared_ags.api.settle(delivery)
    assert (done["state"], done["attempts"], done["remote"]["status"]) == (state, 1, status)
    assert done["remote"]["body"] == f'{{"error": "refused {status}"}}'
    assert ("skipped" if status == 409 else "the LMS refused this score") in done["detail"]
    assert shared_ags.scores(asg) == []


@pytest.mark.parametrize("status", [400, 403, 404, 409])
def test_a_refused_line_item_fails_its_assignment_and_its_grades(shared_ags: AgsWorld, status: int) -> None:
    world = shared_ags
    world.lti.platform.fail_next("/lineitems", status)
    made = world.create()
    asg = made["assignment"]["id"]
    graded = world.grade(asg, world.students[0])
    created, grade = world.api.settle(made["delivery"]["id"], graded["delivery"]["id"])
    assert (created["state"], created["remote"]["status"]) == ("failed", status)
    assert grade["state"] == "failed" and "never created" in grade["detail"]
    assert world.api.ok("GET", f"/api/v1/contexts/{world.context_id}/assignments/{asg}", 200)["remote"]["state"] \
        == "failed"
    # The operator fixes the cause and replays the assignment, then its grade: both arrive.
    world.api.ok("POST", f"/api/v1/deliveries/{created['id']}/replay")
    world.api.settle(created["id"])
    world.api.ok("POST", f"/api/v1/deliveries/{grade['id']}/replay")
    assert world.api.settle(grade["id"])[0]["state"] == "delivered"
    assert [s["scoreGiven"] for s in world.scores(asg)] == [7]


def test_a_grade_out_of_attempts_dies_and_a_replay_delivers_it_once(shared_ags: AgsWorld) -> None:
    world = shared_ags
    world.lti.platform.fail_next("/scores", 500, count=5)  # max attempts is 5
    asg, delivery = _graded(world)
    [dead] = world.api.settle(delivery)
    assert (dead["state"], dead["attempts"]) == ("dead", 5) and "out of attempts" in dead["detail"]
    listed = world.api.ok("GET", "/api/v1/deliveries", 200, params={"state": "dead", "limit": 200})
    assert delivery in [d["id"] for d in listed["data"]]
    world.api.ok("POST", f"/api/v1/deliveries/{delivery}/replay")
    assert world.api.settle(delivery)[0]["state"] == "delivered"
    _exactly_as_sent(world, asg)


def test_the_token_endpoint_failing_is_retried_and_refusing_fails(shared_ags: AgsWorld) -> None:
    world = shared_ags
    with world.lti.platform.lock:
        world.lti.platform.tokens.clear()  # the next call answers 401, so the gateway fetches a new token
    world.lti.platform.fail_next("/token", 503)
    made = world.create()
    [done] = world.api.settle(made["delivery"]["id"])
    assert done["state"] == "delivered"
    with world.lti.platform.lock:
        world.lti.platform.tokens.clear()
    world.lti.platform.fail_next("/token", 401, count=2, body={"error": "invalid_client"})
    graded = world.grade(made["assignment"]["id"], world.students[0])
    [refused] = world.api.settle(graded["delivery"]["id"])
    assert refused["state"] == "failed" and "token endpoint answered 401" in refused["detail"]
    assert world.scores(made["assignment"]["id"]) == []


def test_a_refused_connection_is_retried_until_the_lms_is_back(sqlite_url: str, keys_dir: Path) -> None:
    with ags_world(sqlite_url, keys_dir) as world:
        made = world.create()
        world.api.settle(made["delivery"]["id"])
        port = world.lti.platform_server.port
        world.lti.platform_server.stop()  # nothing listens: connections are refused
        graded = world.grade(made["assignment"]["id"], world.students[0], score_given=6.5, comment="ok")
        delivery = graded["delivery"]["id"]
        wait_until(lambda: world.api.delivery(delivery)["attempts"] >= 2)
        waiting = world.api.delivery(delivery)
        assert waiting["state"] in ("queued", "delivering") and waiting["remote"] is None
        assert "no answer" in waiting["detail"] and "connection" in waiting["detail"]
        back = LiveServer(create_lms_app(world.lti.platform), port=port).start()
        try:
            assert world.api.settle(delivery)[0]["state"] == "delivered"
        finally:
            back.stop()
        _exactly_as_sent(world, made["assignment"]["id"])
