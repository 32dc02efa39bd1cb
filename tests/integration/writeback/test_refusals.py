"""Bad input is refused with its stable code and enqueues nothing; `Idempotency-Key` repeats get the first answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from gateway.store.models.clever import CleverRosterUserRow
from gateway.store.models.lti import LtiDeploymentRow
from tests.support.clever_roster import job, sync_now
from tests.support.waiting import wait_until
from tests.support.writeback_worlds import AgsWorld, CleverWorld, ags_world, counts, running

# One worker runs this module, so its module-scoped world (servers, keys, launches) is built once.
pytestmark = pytest.mark.xdist_group(__name__)

NOW_PLUS_A_DAY = "2999-01-01T00:00:00Z"


def _refused(world: AgsWorld | CleverWorld, method: str, path: str, status: int, code: str,
             **kwargs: Any) -> dict[str, Any]:
    before = counts(world.services)
    response = world.api.call(method, path, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert counts(world.services) == before, "a refused request stored something"
    return body


@pytest.mark.parametrize("context", ["ctx_unknown", "clever:5f0000000000000000000000", "course-1", "clever:"])
def test_unknown_contexts(shared_ags: AgsWorld, context: str) -> None:
    _refused(shared_ags, "GET", f"/api/v1/contexts/{context}", 404, "CONTEXT_NOT_FOUND")
    _refused(shared_ags, "POST", f"/api/v1/contexts/{context}/assignments", 404, "CONTEXT_NOT_FOUND",
             json={"title": "T", "points_possible": 1})
    _refused(shared_ags, "PUT", f"/api/v1/contexts/{context}/assignments/asg_x/grades/usr_x", 404,
             "CONTEXT_NOT_FOUND", json={"score_given": 1, "score_maximum": 2})


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"points_possible": 10}, "title"),
        ({"title": "  ", "points_possible": 10}, "title"),
        ({"title": "T"}, "points_possible"),
        ({"title": "T", "points_possible": 0}, "points_possible"),
        ({"title": "T", "points_possible": True}, "points_possible"),
        ({"title": "T", "points_possible": 10, "due_date": "2026-05-01T10:00:00"}, "due_date"),
        ({"title": "T", "points_possible": 10, "due_date": "next tuesday"}, "due_date"),
        ({"title": "T", "points_possible": 10, "colour": "red"}, "colour"),
        ({"title": "T", "points_possible": 10, "vendor_id": ""}, "vendor_id"),
        (["not", "an", "object"], "body"),
    ],
    ids=["no-title", "blank-title", "no-points", "zero-points", "bool-points", "naive-due", "bad-due",
         "unknown-field", "blank-vendor-id", "not-an-object"],
)
def test_invalid_assignments(shared_ags: AgsWorld, body: Any, field: str) -> None:
    problem = _refused(shared_ags, "POST", f"/api/v1/contexts/{shared_ags.context_id}/assignments", 422,
                       "VALIDATION_FAILED", json=body)
    assert problem["errors"][0]["field"] == field


def test_assignment_conflicts_and_foreign_links(shared_ags: AgsWorld) -> None:
    world = shared_ags
    path = f"/api/v1/contexts/{world.context_id}/assignments"
    world.create(vendor_id="taken-1")
    _refused(world, "POST", path, 409, "VENDOR_ID_TAKEN", json={"title": "T", "points_possible": 1,
                                                                 "vendor_id": "taken-1"})
    _refused(world, "POST", path, 422, "RESOURCE_LINK_NOT_IN_CONTEXT",
             json={"title": "T", "points_possible": 1, "resource_link_id": "rlk_not_here"})
    _refused(world, "PATCH", f"{path}/ext:taken-1", 422, "VALIDATION_FAILED", json={"vendor_id": "new"})
    _refused(world, "PATCH", f"{path}/ext:taken-1", 422, "VALIDATION_FAILED", json={})
    _refused(world, "GET", f"{path}/asg_unknown", 404, "ASSIGNMENT_NOT_FOUND")
    _refused(world, "GET", f"{path}/ext:unknown", 404, "ASSIGNMENT_NOT_FOUND")
    _refused(world, "GET", f"{path}?limit=0", 422, "VALIDATION_FAILED")
    _refused(world, "GET", f"{path}?cursor=garbage", 400, "INVALID_CURSOR")


def _grade_path(world: AgsWorld, asg: str, user: str) -> str:
    return f"/api/v1/contexts/{world.context_id}/assignments/{asg}/grades/{user}"


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"score_given": -1, "score_maximum": 10}, "SCORE_OUT_OF_RANGE", "score_given"),
        ({"score_given": 10.5, "score_maximum": 10}, "SCORE_OUT_OF_RANGE", "score_given"),
        ({"score_given": 7}, "SCORE_MAXIMUM_REQUIRED", "score_maximum"),
        ({"score_given": 7, "score_maximum": 0}, "VALIDATION_FAILED", "score_maximum"),
        ({"score_given": "7", "score_maximum": 10}, "VALIDATION_FAILED", "score_given"),
        ({"grading_progress": "FullyGraded"}, "VALIDATION_FAILED", "score_given"),
        ({"score_given": 7, "score_maximum": 10, "grading_progress": "Done"}, "VALIDATION_FAILED",
         "grading_progress"),
        ({"score_given": 7, "score_maximum": 10, "occurred_at": NOW_PLUS_A_DAY}, "VALIDATION_FAILED", "occurred_at"),
        ({"score_given": 7, "score_maximum": 10, "scoreGiven": 7}, "VALIDATION_FAILED", "scoreGiven"),
        ({"score_given": 7, "score_maximum": 10, "allow_exceeding_maximum": "yes"}, "VALIDATION_FAILED",
         "allow_exceeding_maximum"),
    ],
    ids=["negative", "above-maximum", "no-maximum", "zero-maximum", "string-score", "graded-without-score",
         "bad-progress", "future-event", "unknown-field", "bad-allowance"],
)
def test_invalid_grades(shared_ags: AgsWorld, body: dict[str, Any], code: str, field: str) -> None:
    asg = shared_ags.create()["assignment"]["id"]
    problem = _refused(shared_ags, "PUT", _grade_path(shared_ags, asg, shared_ags.students[0]), 422, code, json=body)
    assert problem["errors"][0]["field"] == field


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_scores_that_are_not_finite(shared_ags: AgsWorld, raw: str) -> None:
    asg = shared_ags.create()["assignment"]["id"]
    _refused(shared_ags, "PUT", _grade_path(shared_ags, asg, shared_ags.students[0]), 422, "SCORE_NOT_FINITE",
             data=f'{{"score_given": {raw}, "score_maximum": 10}}', headers={"Content-Type": "application/json"})


def test_extra_credit_needs_an_explicit_allowance(shared_ags: AgsWorld) -> None:
    asg = shared_ags.create()["assignment"]["id"]
    made = shared_ags.grade(asg, shared_ags.students[0], score_given=12, allow_exceeding_maximum=True)
    shared_ags.api.settle(made["delivery"]["id"])
    assert [s["scoreGiven"] for s in shared_ags.scores(asg)] == [12]


def test_people_outside_the_course_and_deleted_assignments(shared_ags: AgsWorld) -> None:
    world = shared_ags
    asg = world.create()["assignment"]["id"]
    for user in ("usr_0123456789abcdef", "clever:5f0000000000000000000000", "student-1"):
        _refused(world, "PUT", _grade_path(world, asg, user), 422, "USER_NOT_IN_CONTEXT",
                 json={"score_given": 1, "score_maximum": 2})
    _refused(world, "PUT", _grade_path(world, "asg_unknown", world.students[0]), 404, "ASSIGNMENT_NOT_FOUND",
             json={"score_given": 1, "score_maximum": 2})
    world.api.ok("DELETE", f"/api/v1/contexts/{world.context_id}/assignments/{asg}")
    _refused(world, "PUT", _grade_path(world, asg, world.students[0]), 409, "ASSIGNMENT_DELETED",
             json={"score_given": 1, "score_maximum": 2})
    _refused(world, "DELETE", f"/api/v1/contexts/{world.context_id}/assignments/{asg}", 409, "ASSIGNMENT_DELETED")


def test_batches_too_large_empty_or_all_refused(shared_ags: AgsWorld) -> None:
    world = shared_ags
    asg = world.create()["assignment"]["id"]
    path = f"/api/v1/contexts/{world.context_id}/assignments/{asg}/grades"
    item = {"user_id": world.students[0], "score_given": 1, "score_maximum": 2}
    _refused(world, "POST", path, 422, "BATCH_TOO_LARGE", json={"grades": [item] * 1001})
    _refused(world, "POST", path, 422, "VALIDATION_FAILED", json={"grades": []})
    _refused(world, "POST", path, 422, "VALIDATION_FAILED", json={"grades": item})
    rejected = _refused(world, "POST", path, 422, "BATCH_REJECTED", json={"grades": [
        {"user_id": "usr_nobody", "score_given": 1, "score_maximum": 2},
        {"score_given": 1, "score_maximum": 2},
        {"user_id": world.students[0], "score_given": 3, "score_maximum": 2},
        "not a grade",
    ]})
    assert [i["error"]["code"] for i in rejected["items"]] == [
        "USER_NOT_IN_CONTEXT", "VALIDATION_FAILED", "SCORE_OUT_OF_RANGE", "VALIDATION_FAILED"]
    assert rejected["items"][2]["error"]["errors"] == [{"field": "grades[2].score_given",
                                                        "message": "must be between 0 and 2"}]
    full = world.api.ok("POST", path, json={"grades": [item] * 1000})
    assert full["accepted"] == 1000


def test_a_key_without_the_writeback_scope_is_refused(shared_ags: AgsWorld) -> None:
    response = shared_ags.gateway.api("launches").get(
        f"{shared_ags.gateway.url}/api/v1/contexts/{shared_ags.context_id}", timeout=10)
    assert (response.status_code, response.json()["code"]) == (403, "INSUFFICIENT_SCOPE")


def test_a_course_without_ags_says_why_and_refuses_writes(sqlite_url: str, keys_dir: Path) -> None:
    with ags_world(sqlite_url, keys_dir, worker=False, ags=False) as world:
        context = world.api.ok("GET", f"/api/v1/contexts/{world.context_id}", 200)
        for name in ("create_assignments", "write_grades"):
            assert context["capabilities"][name]["available"] is False
            assert [r["code"] for r in context["capabilities"][name]["reasons"]] == ["AGS_NOT_GRANTED"]
        assert context["capabilities"]["deep_linking"]["available"] is True
        assert context["capabilities"]["read_roster"]["available"] is True  # the launches offered NRPS (issue 13)
        problem = _refused(world, "POST", f"/api/v1/contexts/{world.context_id}/assignments", 409,
                           "CAPABILITY_UNAVAILABLE", json={"title": "T", "points_possible": 1})
        assert problem["capability"] == "create_assignments"
        assert [r["code"] for r in problem["reasons"]] == ["AGS_NOT_GRANTED"]


# -- Clever sections ---------------------------------------------------------------------------------------


def test_clever_people_must_be_in_the_section_and_matched_to_the_lms(cleverw: CleverWorld) -> None:
    world = cleverw
    asg = world.create()["assignment"]["id"]
    path = f"/api/v1/contexts/{world.context_id}/assignments/{asg}/grades"
    body = {"score_given": 1, "score_maximum": 2}
    for user in ("5f0000000000000000000000", "usr_0123456789abcdef"):
        _refused(world, "PUT", f"{path}/{user}", 422, "USER_NOT_IN_CONTEXT", json=body)
    _refused(world, "PUT", f"{path}/{world.seeded.students[0]}", 422, "VALIDATION_FAILED",
             json={"grading_progress": "Pending"})  # Clever records grades, not progress
    _refused(world, "POST", f"/api/v1/contexts/{world.context_id}/assignments", 422, "VALIDATION_FAILED",
             json={"title": "T", "points_possible": 1, "resource_link_id": "rlk_x"})
    # A section's teacher is not gradable in Clever (issue 12 #1): refused, per item in a batch, nothing queued.
    for teacher in (world.seeded.teacher, f"clever:{world.seeded.teacher}"):
        _refused(world, "PUT", f"{path}/{teacher}", 422, "USER_NOT_STUDENT", json=body)
    batch = world.api.ok("POST", path, json={"grades": [{"user_id": world.seeded.teacher, **body},
                                                         {"user_id": world.seeded.students[0], **body}]})
    assert (batch["accepted"], batch["rejected"]) == (1, 1)
    assert batch["items"][0]["error"]["code"] == "USER_NOT_STUDENT" and batch["items"][0]["delivery_id"] is None
    _refused(world, "POST", path, 422, "BATCH_REJECTED", json={"grades": [{"user_id": world.seeded.teacher, **body}]})
    world.clever.sim.update(world.seeded.students[1], lms_status={"synced_in_lms": False})
    sync_now(world.gateway, world.seeded.district, full=True)

    def unmatched() -> bool:  # the worker may have held the district's sync lease: run the job again
        with world.services.db.transaction() as s:
            row = s.get(CleverRosterUserRow, world.seeded.students[1])
            if row is not None and row.lms_synced is False:
                return True
        job(world.gateway, "clever.roster_sync").run()
        return False

    wait_until(unmatched)
    _refused(world, "PUT", f"{path}/{world.seeded.students[1]}", 409, "USER_NOT_SYNCED_IN_LMS", json=body)
    wait_until(lambda: world.api.delivery(batch["items"][1]["delivery_id"])["state"] != "queued")


def test_idempotency_keys_return_the_first_answer_and_enqueue_once(shared_ags: AgsWorld) -> None:
    world = shared_ags
    path = f"/api/v1/contexts/{world.context_id}/assignments"
    key = {"Idempotency-Key": "create-essay-1"}
    before = counts(world.services)
    first = world.api.call("POST", path, json={"title": "Essay", "points_possible": 5}, headers=key)
    again = world.api.call("POST", path, json={"title": "Essay", "points_possible": 5}, headers=key)
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert counts(world.services) == (before[0] + 1, before[1] + 1)
    reused = world.api.call("POST", path, json={"title": "Other", "points_possible": 5}, headers=key)
    assert (reused.status_code, reused.json()["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")
    asg = first.json()["assignment"]["id"]
    grade_key = {"Idempotency-Key": "grade-essay-1"}
    grade_path = _grade_path(world, asg, world.students[0])
    refused = world.api.call("PUT", grade_path, json={"score_given": 9, "score_maximum": 5}, headers=grade_key)
    assert refused.status_code == 422  # a refusal is not remembered: the corrected request may reuse the key
    graded = [world.api.call("PUT", grade_path, json={"score_given": 4, "score_maximum": 5}, headers=grade_key)
              for _ in range(2)]
    assert graded[0].json()["delivery"]["id"] == graded[1].json()["delivery"]["id"]
    assert graded[1].headers["Idempotent-Replayed"] == "true"
    batch_key = {"Idempotency-Key": "batch-essay-1"}
    batch = {"grades": [{"user_id": world.students[1], "score_given": 3, "score_maximum": 5}]}
    batches = [world.api.call("POST", f"{path}/{asg}/grades", json=batch, headers=batch_key) for _ in range(2)]
    assert batches[0].json() == batches[1].json()
    assert counts(world.services) == (before[0] + 3, before[1] + 1)
    world.api.settle(first.json()["delivery"]["id"], graded[0].json()["delivery"]["id"],
                     batches[0].json()["items"][0]["delivery_id"])
    assert sorted(s["scoreGiven"] for s in world.scores(asg)) == [3, 4]


def test_a_disabled_deployment_takes_no_writes(sqlite_url: str, keys_dir: Path) -> None:
    with ags_world(sqlite_url, keys_dir, worker=False) as world:
        queued = world.create()
        with world.services.db.transaction() as s:
            s.execute(update(LtiDeploymentRow).values(status="disabled"))
        context = world.api.ok("GET", f"/api/v1/contexts/{world.context_id}", 200)
        assert [r["code"] for r in context["capabilities"]["write_grades"]["reasons"]] == ["DEPLOYMENT_DISABLED"]
        _refused(world, "PUT", _grade_path(world, queued["assignment"]["id"], world.students[0]), 409,
                 "CAPABILITY_UNAVAILABLE", json={"score_given": 1, "score_maximum": 2})
        with running(world.services):
            [refused] = world.api.settle(queued["delivery"]["id"])
        assert refused["state"] == "failed" and "deployment is disabled" in refused["detail"]
        assert world.lti.platform.line_items == {}
