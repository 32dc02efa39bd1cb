"""When a grade may go: its assignment's remote copy, and the newest grade already delivered."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gateway.writeback.assignment_state import MAX_WAIT, AssignmentState, await_remote, never_created, superseded
from gateway.writeback.backends import Delivery

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def _state(**values: Any) -> AssignmentState:
    base: dict[str, Any] = {
        "id": "asg_1", "context_id": "ctx_1", "remote_id": None, "remote_state": "pending", "remote_detail": {},
        "deleted": False, "points_possible": 10.0, "lti_context_ref": "ctx_1", "clever_section_id": None,
        "clever_district_id": None, "create_state": "queued", "create_next_attempt_at": NOW,
    }
    return AssignmentState(**{**base, **values})


def _delivery(event_at: dt.datetime | None) -> Delivery:
    return Delivery(id="dlv_1", kind="grade", backend="ags", ordering_key="grade:asg_1:usr_1", payload={},
                    attempt=1, max_attempts=5, event_at=event_at, created_at=NOW, api_key_id=None)


def test_a_created_assignment_lets_grades_go() -> None:
    assert await_remote(_state(remote_id="https://lms/li/1", remote_state="created"), wait_seconds=1) is None
    assert never_created(_state(remote_id="https://lms/li/1", remote_state="created")) is None


def test_a_grade_waits_for_its_assignments_next_attempt() -> None:
    later = NOW + dt.timedelta(seconds=30)
    waiting = await_remote(_state(create_next_attempt_at=later), wait_seconds=2, now=NOW)
    assert waiting is not None and waiting.outcome == "wait" and waiting.retry_after == 32
    in_flight = await_remote(_state(create_state="delivering"), wait_seconds=2, now=NOW)
    assert in_flight is not None and in_flight.retry_after == 2


def test_waiting_has_its_own_bound() -> None:
    accepted = NOW - MAX_WAIT - dt.timedelta(seconds=1)
    waited = await_remote(_state(create_state="queued"), wait_seconds=2, now=NOW, waiting_since=accepted)
    assert waited is not None and waited.outcome == "failed" and "waiting" in (waited.error or "")
    young = await_remote(_state(create_state="queued"), wait_seconds=2, now=NOW, waiting_since=NOW)
    assert young is not None and young.outcome == "wait"


def test_a_grade_fails_when_its_assignment_never_will_exist() -> None:
    for state in (_state(create_state="dead"), _state(create_state="failed"), _state(remote_state="failed"),
                  _state(deleted=True), _state(create_state="delivered")):
        result = await_remote(state, wait_seconds=1)
        assert result is not None and result.outcome == "failed"
    refused = never_created(_state(create_state="dead"))
    assert refused is not None and refused.outcome == "failed"


def test_an_older_grade_is_superseded() -> None:
    newest = NOW
    state = _state(newest_grade_at=newest)
    skipped = superseded(state, _delivery(NOW - dt.timedelta(seconds=1)))
    assert skipped is not None and skipped.outcome == "skipped"
    assert superseded(state, _delivery(NOW)) is None  # the same time is sent again (idempotent for the LMS)
    assert superseded(_state(), _delivery(NOW)) is None
