"""Issue 13: an LTI course's roster over Names and Roles, and a grade for a member who never launched."""

from __future__ import annotations

from gateway.lti import claims as c
from sandbox.lms.platform import STUDENT, User
from tests.support.writeback_worlds import AgsWorld

NEWCOMER = User("student-3", "Nia Newcomer", "Nia", "Newcomer", "nia@example.edu",
                (c.MEMBERSHIP_ROLE + "Learner", c.INSTITUTION_ROLE + "Student"))


def _members(world: AgsWorld, query: str = "", status: int = 200) -> dict[str, object]:
    session = world.lti.gateway.api("roster")
    response = session.get(f"{world.lti.gateway.url}/api/v1/contexts/{world.context_id}/members{query}", timeout=15)
    assert response.status_code == status, response.text
    body: dict[str, object] = response.json()
    return body


def test_roster_read_then_a_grade_for_a_member_who_never_launched_reaches_the_lms(ags: AgsWorld) -> None:
    platform = ags.lti.platform
    with platform.lock:
        platform.users[NEWCOMER.sub] = NEWCOMER
    context = ags.api.ok("GET", f"/api/v1/contexts/{ags.context_id}", 200)
    assert context["capabilities"]["read_roster"]["available"] is True
    made = ags.create()
    before = ags.api.call("PUT", f"/api/v1/contexts/{ags.context_id}/assignments/{made['assignment']['id']}"
                                 "/grades/usr_nobody", json={"score_given": 1, "score_maximum": 10})
    assert before.json()["code"] == "USER_NOT_IN_CONTEXT"
    page = _members(ags, "?limit=2")
    first = page["data"]
    assert isinstance(first, list) and len(first) == 2 and page["next_cursor"]
    rest = _members(ags, f"?limit=2&cursor={page['next_cursor']}")["data"]
    assert isinstance(rest, list)
    members = {m["sub"]: m for m in [*first, *rest]}
    assert set(members) == {"teacher-1", "student-1", "student-2", "student-3"}
    newcomer = members["student-3"]
    assert newcomer["status"] == "Active" and newcomer["learner"] is True and "Learner" in newcomer["roles"]
    assert newcomer["clever"] == {"user_id": None, "match": "not_checked"}
    assert members["student-1"]["user_id"] == ags.students[0]  # the same gateway user their launch named
    reads = platform.requests_of("nrps")
    assert len(reads) == 1 and reads[0].query.get("limit") == "100"  # the second page came from the gateway
    tokens = [t for t in platform.requests_of("token") if c.NRPS_SCOPE in str(t.body.get("scope"))]
    assert len(tokens) == 1
    # The grade for someone who never launched is accepted and delivered over AGS.
    graded = ags.grade(made["assignment"]["id"], newcomer["user_id"], score_given=9, score_maximum=10)
    assert ags.api.settle(made["delivery"]["id"], graded["delivery"]["id"])[-1]["state"] == "delivered"
    assert ("student-3", 9) in [(s["userId"], s["scoreGiven"]) for s in ags.scores()]


def test_role_filter_paging_and_differences(ags: AgsWorld) -> None:
    platform = ags.lti.platform
    learners = _members(ags, "?role=Learner")["data"]
    assert isinstance(learners, list) and {m["sub"] for m in learners} == {"student-1", "student-2"}
    assert platform.requests_of("nrps")[-1].query.get("role") == "Learner"
    _members(ags)  # a full read keeps the platform's differences link
    with platform.lock:
        platform.removed_users.append(platform.users.pop(STUDENT.sub))
    changed = _members(ags, "?changes=true")["data"]
    assert isinstance(changed, list) and [(m["sub"], m["status"]) for m in changed] == [("student-1", "Deleted")]
    assert "since" in platform.requests_of("nrps")[-1].query
    made = ags.create()
    refused = ags.api.call("PUT", f"/api/v1/contexts/{ags.context_id}/assignments/{made['assignment']['id']}"
                                  f"/grades/{ags.students[0]}", json={"score_given": 1, "score_maximum": 10})
    assert (refused.status_code, refused.json()["code"]) == (422, "USER_NOT_IN_CONTEXT")


def test_a_refused_roster_read_says_why_and_records_nothing(ags: AgsWorld) -> None:
    ags.lti.platform.fail_next("/nrps/", 403, body={"error": "forbidden"})
    body = _members(ags, status=502)
    assert body["code"] == "NRPS_REFUSED"
    wrong = ags.lti.gateway.api("writeback").get(
        f"{ags.lti.gateway.url}/api/v1/contexts/{ags.context_id}/members", timeout=15)
    assert wrong.status_code == 403
