"""What the AGS backend puts on the wire: Link paging, score URLs, timestamps, line items and scores."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.lti.ags import line_item, next_link, score, scores_url, timestamp
from gateway.writeback.clever_lms import draft, grade_points


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('<https://lms.example/li?page=2>; rel="next"', "https://lms.example/li?page=2"),
        ("<https://lms.example/li?page=2>; rel=next", "https://lms.example/li?page=2"),  # lti1p3platform 0.1.8
        ('<https://lms.example/a>; rel="prev", <https://lms.example/b>; rel="next"', "https://lms.example/b"),
        ('<https://lms.example/b>; rel="next last"', "https://lms.example/b"),
        ('<https://lms.example/b>;rel=NEXT', "https://lms.example/b"),
        ('<https://lms.example/a>; rel="differences"', None),
        ('<https://lms.example/a>; title="next"', None),
        ("", None),
        (None, None),
    ],
    ids=["quoted", "bare", "second", "several-rels", "case", "other-rel", "not-rel", "empty", "absent"],
)
def test_next_link(header: str | None, expected: str | None) -> None:
    assert next_link(header) == expected


@pytest.mark.parametrize(
    ("line_item_url", "expected"),
    [
        ("https://lms.example/ags/c1/lineitems/7", "https://lms.example/ags/c1/lineitems/7/scores"),
        ("https://lms.example/ags/c1/lineitems/7/", "https://lms.example/ags/c1/lineitems/7/scores"),
        ("https://moodle.example/mod/lti/services.php/2/lineitems/9/lineitem?type_id=3",
         "https://moodle.example/mod/lti/services.php/2/lineitems/9/lineitem/scores?type_id=3"),
    ],
)
def test_scores_url_keeps_the_query_string(line_item_url: str, expected: str) -> None:
    assert scores_url(line_item_url) == expected


def test_timestamps_have_milliseconds_and_a_zone() -> None:
    moment = dt.datetime(2026, 3, 1, 10, 0, 0, 250_400, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert timestamp(moment) == "2026-03-01T08:00:00.250+00:00"


def test_line_items_name_the_assignment_as_their_resource() -> None:
    assert line_item(assignment_id="asg_1", title="Quiz", points=10.0, tag=None, resource_link_lms_id=None,
                     due_at=None) == {"label": "Quiz", "scoreMaximum": 10.0, "resourceId": "asg_1"}
    due = dt.datetime(2026, 5, 1, 15, tzinfo=dt.UTC)
    assert line_item(assignment_id="asg_1", title="Quiz", points=5.0, tag="t", resource_link_lms_id="link-1",
                     due_at=due) == {"label": "Quiz", "scoreMaximum": 5.0, "resourceId": "asg_1", "tag": "t",
                                     "resourceLinkId": "link-1", "endDateTime": "2026-05-01T15:00:00.000+00:00"}


def test_score_maximum_always_travels_with_score_given() -> None:
    graded = score(sub="s", score_given=0.0, score_maximum=10.0, comment=None, activity_progress="Completed",
                   grading_progress="FullyGraded", submitted_at=None, started_at=None)
    assert graded == {"userId": "s", "scoreGiven": 0.0, "scoreMaximum": 10.0, "activityProgress": "Completed",
                      "gradingProgress": "FullyGraded"}
    progress = score(sub="s", score_given=None, score_maximum=10.0, comment="started", activity_progress="Started",
                     grading_progress="Pending", submitted_at=None,
                     started_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert "scoreGiven" not in progress and "scoreMaximum" not in progress
    assert progress["submission"] == {"startedAt": "2026-01-01T00:00:00.000+00:00"}


@pytest.mark.parametrize(
    ("given", "maximum", "points", "expected"),
    [(7, 10, 20, 14.0), (7, 10, 10, 7), (7, 10, None, 7), (1, 3, 10, 3.3333), (12, 10, 10, 12)],
)
def test_clever_grade_points_are_in_the_assignments_points(given: float, maximum: float, points: float | None,
                                                           expected: float) -> None:
    assert grade_points(given, maximum, points) == expected


def test_clever_drafts_are_point_graded() -> None:
    assert draft(title="T", description=None, points=5.0, due_at=None) == {
        "title": "T", "points_possible": 5.0, "grading_type": "points"}
