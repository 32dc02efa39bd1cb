"""End to end over Clever LMS Connect: the vendor API call, the outbox, the worker, and what Clever recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.clever_roster import sync_now
from tests.support.writeback_worlds import CleverWorld, clever_world

# One worker runs this module, so its module-scoped world (servers, keys, launches) is built once.
pytestmark = pytest.mark.xdist_group(__name__)


def test_context_says_what_a_synced_section_allows(shared_clever: CleverWorld) -> None:
    cleverw = shared_clever
    context = cleverw.api.ok("GET", f"/api/v1/contexts/{cleverw.context_id}", 200)
    assert (context["kind"], context["backend"], context["lms"], context["title"]) == (
        "clever_section", "clever", "canvas", "Math 4")
    capabilities = context["capabilities"]
    assert capabilities["create_assignments"] == {"available": True, "reasons": [], "note": None}
    assert capabilities["write_grades"]["available"] and capabilities["read_roster"]["available"]
    assert capabilities["deep_linking"]["reasons"][0]["code"] == "NOT_LTI"
    assert [n["code"] for n in context["notes"]] == ["CANVAS_IGNORES_STATE", "CANVAS_SUBMISSION_TYPES"]
    assert context["clever"] == {"district_id": cleverw.seeded.district, "section_id": cleverw.seeded.section,
                                 "lms_type": "canvas", "lms_state": "success", "synced_in_lms": True}


def test_assignment_and_grades_arrive_in_clever_exactly_as_sent(shared_clever: CleverWorld) -> None:
    cleverw = shared_clever
    kids = cleverw.seeded.students
    made = cleverw.create(description="Words 1-20", due_date="2026-05-01T15:00:00Z", vendor_id="spell-1")
    one = cleverw.grade("ext:spell-1", kids[0], score_given=7, score_maximum=10, comment="Nice")
    batch = cleverw.api.ok("POST", f"/api/v1/contexts/{cleverw.context_id}/assignments/ext:spell-1/grades", json={
        "grades": [{"user_id": f"clever:{kids[1]}", "score_given": 18, "score_maximum": 20, "grade": "A-"},
                   {"user_id": kids[2], "score_given": 0, "score_maximum": 20}]})
    assert (batch["accepted"], batch["rejected"]) == (3 - 1, 0)
    ids = [made["delivery"]["id"], one["delivery"]["id"], *(i["delivery_id"] for i in batch["items"])]
    assert [d["state"] for d in cleverw.api.settle(*ids)] == ["delivered"] * 4
    remote = cleverw.api.ok("GET", f"/api/v1/contexts/{cleverw.context_id}/assignments/ext:spell-1", 200)["remote"]
    [created] = [body for _, body in cleverw.writes("POST", "/assignments") if body.get("description") == "Words 1-20"]
    assert created == {"title": "Spelling test", "description": "Words 1-20", "points_possible": 20,
                       "grading_type": "points", "due_date": "2026-05-01T15:00:00.000Z"}
    assert remote["state"] == "created" and (cleverw.seeded.section, remote["id"]) in cleverw.clever.sim.assignments
    submissions = {path.rsplit("/", 1)[-1]: body for path, body in cleverw.writes(contains=remote["id"] + "/sub")}
    assert submissions == {
        kids[0]: {"grade_points": 14.0, "grade": "14", "grade_comment": "Nice"},  # 7/10 of a 20-point assignment
        kids[1]: {"grade_points": 18, "grade": "A-"},
        kids[2]: {"grade_points": 0, "grade": "0"},
    }
    stored = cleverw.clever.sim.submissions[(cleverw.seeded.section, remote["id"], kids[0])]
    assert (stored["grade_points"], stored["grade_comment"]) == (14.0, "Nice")


def test_update_and_delete_reach_clever(shared_clever: CleverWorld) -> None:
    cleverw = shared_clever
    made = cleverw.create()
    asg = made["assignment"]["id"]
    changed = cleverw.api.ok("PATCH", f"/api/v1/contexts/{cleverw.context_id}/assignments/{asg}",
                             json={"title": "Spelling test (retake)", "points_possible": 25})
    gone = cleverw.api.ok("DELETE", f"/api/v1/contexts/{cleverw.context_id}/assignments/{asg}")
    done = cleverw.api.settle(made["delivery"]["id"], changed["delivery"]["id"], gone["delivery"]["id"])
    assert [d["state"] for d in done] == ["delivered"] * 3
    remote = cleverw.api.ok("GET", f"/api/v1/contexts/{cleverw.context_id}/assignments/{asg}", 200)["remote"]
    [(_, patched)] = cleverw.writes("PATCH", f"/assignments/{remote['id']}")
    assert (patched["title"], patched["points_possible"]) == ("Spelling test (retake)", 25)
    assert len(cleverw.writes("DELETE", f"/assignments/{remote['id']}")) == 1
    assert (cleverw.seeded.section, remote["id"]) not in cleverw.clever.sim.assignments
    assert remote["state"] == "deleted"


def test_an_older_grade_is_skipped_so_a_late_retry_never_overwrites_a_newer_one(shared_clever: CleverWorld) -> None:
    cleverw = shared_clever
    kid = cleverw.seeded.students[0]
    asg = cleverw.create()["assignment"]["id"]
    newer = cleverw.grade(asg, kid, score_given=9, occurred_at="2026-03-02T10:00:00Z")
    cleverw.api.settle(newer["delivery"]["id"])
    older = cleverw.grade(asg, kid, score_given=2, occurred_at="2026-03-01T10:00:00Z")
    [skipped] = cleverw.api.settle(older["delivery"]["id"])
    assert skipped["state"] == "delivered" and skipped["detail"].startswith("skipped")
    remote = cleverw.api.ok("GET", f"/api/v1/contexts/{cleverw.context_id}/assignments/{asg}", 200)["remote"]
    assert [body["grade_points"] for _, body in cleverw.writes(contains=remote["id"] + "/sub")] == [18.0]


@pytest.mark.parametrize(
    ("lms_type", "codes"),
    [("schoology", ["SCHOOLOGY_STUDENT_MUST_LAUNCH", "SCHOOLOGY_LINKS_AS_TEXT"]),
     ("google_classroom", ["GOOGLE_CLASSROOM_NO_SUBMISSION_ID"])],
)
def test_lms_differences_are_surfaced(sqlite_url: str, keys_dir: Path, lms_type: str, codes: list[str]) -> None:
    with clever_world(sqlite_url, keys_dir, lms_type=lms_type) as world:
        assert [n["code"] for n in world.api.ok("GET", f"/api/v1/contexts/{world.context_id}", 200)["notes"]] == codes
        made = world.create()
        world.api.settle(made["delivery"]["id"])
        asg = made["assignment"]["id"]
        remote = world.api.ok("GET", f"/api/v1/contexts/{world.context_id}/assignments/{asg}", 200)["remote"]["id"]
        if lms_type == "schoology":  # until the student has launched once, Schoology refuses through Clever
            world.clever.sim.switches.prefix = f"/v3.1/sections/{world.seeded.section}/assignments/{remote}/sub"
            world.clever.sim.switches.failures = [500]
        graded = world.grade(asg, world.seeded.students[0])
        assert [w["code"] for w in graded["warnings"]] == codes
        [delivered] = world.api.settle(graded["delivery"]["id"])
        assert delivered["state"] == "delivered"
        if lms_type == "schoology":
            assert delivered["attempts"] == 2
        else:
            assert [w["code"] for w in delivered["result"]["warnings"]] == codes


def test_sections_not_ready_for_writeback_say_why(sqlite_url: str, keys_dir: Path) -> None:
    with clever_world(sqlite_url, keys_dir, worker=False) as world:
        sim = world.clever.sim
        sim.update(world.seeded.section, lms_status={"synced_in_lms": False})
        with sim.lock:  # a district record has no `last_modified` for sim.update to set
            sim.records["districts"][world.seeded.district]["lms_state"] = "matching_in_progress"
        sync_now(world.gateway, world.seeded.district, full=True)
        context = world.api.ok("GET", f"/api/v1/contexts/{world.context_id}", 200)
        reasons = [r["code"] for r in context["capabilities"]["write_grades"]["reasons"]]
        assert reasons == ["CLEVER_LMS_NOT_READY", "CLEVER_SECTION_NOT_SYNCED"]
        refused = world.api.call("POST", f"/api/v1/contexts/{world.context_id}/assignments",
                                 json={"title": "Nope", "points_possible": 5})
        body = refused.json()
        assert (refused.status_code, body["code"]) == (409, "CAPABILITY_UNAVAILABLE")
        assert [r["code"] for r in body["reasons"]] == reasons
