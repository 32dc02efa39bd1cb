"""Request bodies checked into plain values; every refusal names its code and field."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest

from gateway.errors import GatewayError
from gateway.writeback import validation as v

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def _code(fn: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(GatewayError) as caught:
        fn(*args, **kwargs)
    return caught.value.code, caught.value.extra["errors"][0]["field"]


def test_a_grade_gets_defaults_and_a_utc_event_time() -> None:
    fields = v.grade({"score_given": 7, "score_maximum": 10, "occurred_at": "2026-03-01T13:00:00+01:00"}, now=NOW)
    assert (fields.activity_progress, fields.grading_progress) == ("Completed", "FullyGraded")
    assert fields.occurred_at == dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    assert v.grade({"activity_progress": "Started"}, now=NOW).grading_progress == "Pending"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"score_given": math.nan, "score_maximum": 10}, ("SCORE_NOT_FINITE", "score_given")),
        ({"score_given": 5, "score_maximum": math.inf}, ("SCORE_NOT_FINITE", "score_maximum")),
        ({"score_given": -0.5, "score_maximum": 10}, ("SCORE_OUT_OF_RANGE", "score_given")),
        ({"score_given": 10.01, "score_maximum": 10}, ("SCORE_OUT_OF_RANGE", "score_given")),
        ({"score_given": 5}, ("SCORE_MAXIMUM_REQUIRED", "score_maximum")),
        ({"score_given": 5, "score_maximum": -1}, ("VALIDATION_FAILED", "score_maximum")),
        ({"score_given": 5, "score_maximum": 10, "occurred_at": "2026-03-01T12:06:00Z"},
         ("VALIDATION_FAILED", "occurred_at")),
        ({"score_given": 5, "score_maximum": 10, "submitted_at": "2026-03-01"}, ("VALIDATION_FAILED", "submitted_at")),
    ],
)
def test_grade_refusals(body: dict[str, Any], expected: tuple[str, str]) -> None:
    assert _code(v.grade, body, now=NOW) == expected


def test_extra_credit_and_the_future_skew() -> None:
    assert v.grade({"score_given": 11, "score_maximum": 10, "allow_exceeding_maximum": True}, now=NOW).score_given == 11
    assert v.grade({"score_given": 1, "score_maximum": 2, "occurred_at": "2026-03-01T12:04:00Z"}, now=NOW)


def test_batch_items_name_their_place() -> None:
    assert _code(v.grade, {"score_given": 3, "score_maximum": 2}, now=NOW, prefix="grades[4].") == (
        "SCORE_OUT_OF_RANGE", "grades[4].score_given")
    assert _code(v.batch_items, {"grades": [{}] * 1001}) == ("BATCH_TOO_LARGE", "grades")
    assert _code(v.batch_user, {"score_given": 1}, 2) == ("VALIDATION_FAILED", "grades[2].user_id")
    assert v.batch_user({"user_id": "usr_1"}, 0) == "usr_1"


def test_assignments() -> None:
    made = v.assignment_create({"title": "Quiz", "points_possible": 10, "due_date": "2026-05-01T10:00:00-04:00"})
    assert made.due_at == dt.datetime(2026, 5, 1, 14, tzinfo=dt.UTC) and made.vendor_id is None
    assert v.assignment_changes({"due_date": None, "title": "New"}) == {"due_at": None, "title": "New"}
    assert _code(v.assignment_changes, {"tag": "x"}) == ("VALIDATION_FAILED", "tag")
    assert _code(v.assignment_create, {"title": "x" * 501, "points_possible": 1}) == ("VALIDATION_FAILED", "title")
