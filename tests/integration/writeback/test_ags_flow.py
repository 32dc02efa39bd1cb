"""End to end over LTI AGS: the vendor API call, the outbox, the worker, and what the simulated LMS recorded."""

from __future__ import annotations

import datetime as dt

import pytest
from prometheus_client import generate_latest

from gateway.store.models.base import utcnow
from gateway.store.repositories.outbox import OutboxRepository
from tests.support.writeback_worlds import AgsWorld

# One worker runs this module, so its module-scoped world (servers, keys, launches) is built once.
pytestmark = pytest.mark.xdist_group(__name__)


def test_assignment_and_grade_arrive_in_the_lms_exactly_as_sent(shared_ags: AgsWorld) -> None:
    ags = shared_ags
    made = ags.create(vendor_id="quiz-7", tag="quiz", due_date="2026-05-01T15:00:00Z")
    assignment = made["assignment"]
    assert assignment["remote"]["state"] == "pending" and made["delivery"]["kind"] == "assignment.create"
    occurred = "2026-03-01T10:00:00.250+00:00"
    graded = ags.grade("ext:quiz-7", ags.students[0], score_given=8.5, score_maximum=10, comment="Well done",
                       occurred_at=occurred, submitted_at="2026-03-01T09:58:00Z")
    ags.api.settle(made["delivery"]["id"], graded["delivery"]["id"])
    assert ags.api.delivery(graded["delivery"]["id"])["state"] == "delivered"
    [item] = [i for i in ags.lti.platform.line_items.values() if i.get("resourceId") == assignment["id"]]
    assert item["label"] == "Fractions quiz" and item["scoreMaximum"] == 10 and item["resourceId"] == assignment["id"]
    assert item["tag"] == "quiz" and item["endDateTime"].startswith("2026-05-01T15:00:00")
    [score] = ags.scores(assignment["id"])
    assert score == {
        "userId": "student-1", "scoreGiven": 8.5, "scoreMaximum": 10, "comment": "Well done",
        "activityProgress": "Completed", "gradingProgress": "FullyGraded",
        "timestamp": "2026-03-01T10:00:00.250+00:00", "submission": {"submittedAt": "2026-03-01T09:58:00.000+00:00"},
    }
    scores_requests = [r for r in ags.lti.platform.requests_of("ags") if r.path.endswith("/scores")]
    assert scores_requests[0].headers["Content-Type"] == "application/vnd.ims.lis.v1.score+json"
    after = ags.api.ok("GET", f"/api/v1/contexts/{ags.context_id}/assignments/{assignment['id']}", 200)
    assert after["remote"]["state"] == "created" and after["remote"]["id"] == item["id"]
    assert dt.datetime.fromisoformat(graded["event_at"]) == dt.datetime.fromisoformat(occurred)


def test_a_batch_has_an_outcome_per_grade_and_a_refused_score_fails_alone(shared_ags: AgsWorld) -> None:
    ags = shared_ags
    made = ags.create()
    asg = made["assignment"]["id"]
    body = {"grades": [
        {"user_id": ags.students[0], "score_given": 9, "score_maximum": 10},
        {"user_id": ags.students[1], "score_given": 4, "score_maximum": 10, "comment": "Try again"},
        {"user_id": ags.teacher, "score_given": 5, "score_maximum": 10},  # the LMS will not grade a teacher
        {"user_id": "usr_nobody", "score_given": 5, "score_maximum": 10},
        {"user_id": ags.students[0], "score_given": 11, "score_maximum": 10},
    ]}
    result = ags.api.ok("POST", f"/api/v1/contexts/{ags.context_id}/assignments/{asg}/grades", json=body)
    assert (result["accepted"], result["rejected"]) == (3, 2)
    statuses = [(item["status"], (item["error"] or {}).get("code")) for item in result["items"]]
    assert statuses == [("accepted", None), ("accepted", None), ("accepted", None),
                        ("rejected", "USER_NOT_IN_CONTEXT"), ("rejected", "SCORE_OUT_OF_RANGE")]
    assert [w["code"] for w in result["items"][2]["warnings"]] == ["USER_NOT_LEARNER"]
    settled = ags.api.settle(*(item["delivery_id"] for item in result["items"][:3]))
    assert [d["state"] for d in settled] == ["delivered", "delivered", "failed"]
    assert settled[2]["remote"]["status"] == 422 and "not a student" in settled[2]["remote"]["body"]
    assert sorted((s["userId"], s["scoreGiven"]) for s in ags.scores(asg)) == [("student-1", 9), ("student-2", 4)]
    metrics = generate_latest(ags.services.metrics.registry).decode()
    assert 'gateway_writeback_grade_refusals_total{backend="ags",status="422"}' in metrics


def test_update_puts_the_whole_line_item_and_delete_removes_it(shared_ags: AgsWorld) -> None:
    ags = shared_ags
    made = ags.create(vendor_id="essay", description="First draft")
    asg = made["assignment"]["id"]
    changed = ags.api.ok("PATCH", f"/api/v1/contexts/{ags.context_id}/assignments/ext:essay",
                         json={"title": "Essay (final)", "points_possible": 25, "due_date": None})
    assert changed["assignment"]["title"] == "Essay (final)" and changed["delivery"]["kind"] == "assignment.update"
    ags.api.settle(changed["delivery"]["id"])
    [item] = [i for i in ags.lti.platform.line_items.values() if i.get("resourceId") == asg]
    assert (item["label"], item["scoreMaximum"], item["resourceId"]) == ("Essay (final)", 25, asg)
    puts = [r for r in ags.lti.platform.requests_of("ags") if r.method == "PUT"]
    assert puts[-1].headers["Content-Type"] == "application/vnd.ims.lis.v2.lineitem+json"
    gone = ags.api.ok("DELETE", f"/api/v1/contexts/{ags.context_id}/assignments/{asg}")
    assert gone["assignment"]["deleted_at"] is not None
    ags.api.settle(gone["delivery"]["id"])
    assert asg not in [i.get("resourceId") for i in ags.lti.platform.line_items.values()]
    shown = ags.api.ok("GET", f"/api/v1/contexts/{ags.context_id}/assignments/{asg}", 200)
    assert shown["remote"]["state"] == "deleted" and shown["vendor_id"] == "essay"
    again = ags.create(vendor_id="essay")  # the vendor id is free again
    assert again["assignment"]["id"] != asg


def test_grades_for_one_student_go_in_order_and_an_older_grade_is_skipped(shared_ags: AgsWorld) -> None:
    ags = shared_ags
    asg = ags.create()["assignment"]["id"]
    first = ags.grade(asg, ags.students[0], score_given=6, occurred_at="2026-03-02T10:00:00Z")
    older = ags.grade(asg, ags.students[0], score_given=3, occurred_at="2026-03-01T10:00:00Z")
    newest = ags.grade(asg, ags.students[0], score_given=9, occurred_at="2026-03-03T10:00:00Z")
    done = ags.api.settle(first["delivery"]["id"], older["delivery"]["id"], newest["delivery"]["id"])
    assert [d["state"] for d in done] == ["delivered", "delivered", "delivered"]
    assert "skipped" in done[1]["detail"]
    assert [s["scoreGiven"] for s in ags.scores(asg)] == [6, 9]
    # Beyond the outbox: the newest delivered grade is remembered per student, so an older grade is
    # skipped even after the delivered rows were purged.
    with ags.services.db.transaction() as s:
        assert OutboxRepository(s).purge_delivered(utcnow() + dt.timedelta(days=1)) >= 3
    late = ags.grade(asg, ags.students[0], score_given=1, occurred_at="2026-03-02T12:00:00Z")
    assert "skipped" in ags.api.settle(late["delivery"]["id"])[0]["detail"]
    assert [s["scoreGiven"] for s in ags.scores(asg)] == [6, 9]
