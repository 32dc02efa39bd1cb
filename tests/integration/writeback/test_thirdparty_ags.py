"""AGS against a platform the gateway did not write: lti1p3platform 0.1.8's own token and AGS handlers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.lti.registrations import add_registration
from tests.integration.writeback.thirdparty_ags import serve_thirdparty_with_ags
from tests.support.gateway import GatewayUnderTest, start_gateway
from tests.support.lti_flow import Browser, launch
from tests.support.lti_thirdparty import DEPLOYMENT_ID, STUDENT_ROLES, Intent, ThirdPartyPlatform
from tests.support.writeback_worlds import FAST, Api, running


def _launched(gateway: GatewayUnderTest, platform: ThirdPartyPlatform, intent: Intent) -> dict[str, Any]:
    browser = Browser()
    try:
        result = launch(browser, platform.login_url(intent))
    finally:
        browser.close()
    assert result.code, result.error_code
    response = gateway.api("launches").post(f"{gateway.url}/api/v1/launches/redeem", json={"code": result.code},
                                            timeout=10)
    assert response.status_code == 200, response.text
    record: dict[str, Any] = response.json()
    return record


def test_assignments_and_grades_reach_lti1p3platform(sqlite_url: str, keys_dir: Path) -> None:
    gateway = start_gateway(sqlite_url, keys_dir, **FAST)
    try:
        config = gateway.services.lti.config
        with serve_thirdparty_with_ags() as (platform, store):
            platform.connect(login_url=config.login_url, launch_url=config.launch_url, tool_jwks_url=config.jwks_url)
            with gateway.services.db.transaction() as s:
                add_registration(s, deployment_ids=(DEPLOYMENT_ID,), **platform.gateway_registration())
            teacher = _launched(gateway, platform, Intent())
            student = _launched(gateway, platform, Intent(user_id="tp-student", roles=list(STUDENT_ROLES),
                                                          name="Sasha Student", email="sasha@example.edu"))
            context = teacher["context"]["id"]
            api = Api(gateway)
            assert api.ok("GET", f"/api/v1/contexts/{context}", 200)["capabilities"]["write_grades"]["available"]
            with store.lock:  # another tool's line items with the same tag fill more than one page
                for n in range(1, 121):
                    store.line_items[str(n)] = {"id": f"{store.lineitems_url}/{n}", "label": f"Other {n}",
                                                "scoreMaximum": 5, "tag": "ratios", "resourceId": f"other-{n}"}
                store.next_id = 121
            with running(gateway.services):
                made = api.ok("POST", f"/api/v1/contexts/{context}/assignments",
                              json={"title": "Ratio tables", "points_possible": 20, "tag": "ratios"})
                asg = made["assignment"]["id"]
                path = f"/api/v1/contexts/{context}/assignments/{asg}"
                graded = api.ok("PUT", f"{path}/grades/{student['user']['id']}",
                                json={"score_given": 15, "score_maximum": 20, "comment": "Good",
                                      "occurred_at": "2026-04-01T08:30:00.125Z"})
                changed = api.ok("PATCH", path, json={"title": "Ratio tables (v2)"})
                api.settle(made["delivery"]["id"], graded["delivery"]["id"], changed["delivery"]["id"])
                states = [api.delivery(d)["state"] for d in
                          (made["delivery"]["id"], graded["delivery"]["id"], changed["delivery"]["id"])]
                assert states == ["delivered", "delivered", "delivered"]
                [item] = [i for i in store.line_items.values() if i.get("resourceId") == asg]
                # Looked up by resourceId, then by tag across both pages (the library's bare `rel=next`).
                assert [(q["resource_id"], q["tag"], q["page"]) for q in store.listings] == [
                    (asg, None, "1"), (None, "ratios", "1"), (None, "ratios", "2")]
                assert (item["label"], item["scoreMaximum"], item["tag"], item["resourceId"]) == (
                    "Ratio tables (v2)", 20, "ratios", asg)
                [(item_id, score)] = store.scores
                assert item["id"].endswith("/" + item_id)
                assert score == {"userId": "tp-student", "scoreGiven": 15, "scoreMaximum": 20, "comment": "Good",
                                 "activityProgress": "Completed", "gradingProgress": "FullyGraded",
                                 "timestamp": "2026-04-01T08:30:00.125+00:00"}
                gone = api.ok("DELETE", path)
                api.settle(gone["delivery"]["id"])
                assert api.delivery(gone["delivery"]["id"])["state"] == "delivered"
                assert asg not in [i.get("resourceId") for i in store.line_items.values()]
    finally:
        gateway.close()
    gateway.contract.assert_clean()


def test_the_roster_of_lti1p3platform_makes_a_student_who_never_launched_gradable(sqlite_url: str,
                                                                                   keys_dir: Path) -> None:
    """Issue 13 against lti1p3platform 0.1.8's own NRPS handler (which checks the token's scope)."""
    gateway = start_gateway(sqlite_url, keys_dir, **FAST)
    try:
        config = gateway.services.lti.config
        with serve_thirdparty_with_ags() as (platform, store):
            platform.connect(login_url=config.login_url, launch_url=config.launch_url, tool_jwks_url=config.jwks_url)
            with gateway.services.db.transaction() as s:
                add_registration(s, deployment_ids=(DEPLOYMENT_ID,), **platform.gateway_registration())
            teacher = _launched(gateway, platform, Intent())
            context = teacher["context"]["id"]
            with store.lock:
                store.members = [
                    {"user_id": "tp-teacher", "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],
                     "status": "Active"},
                    {"user_id": "tp-newcomer", "roles": list(STUDENT_ROLES), "status": "Active"},
                ]
            roster = gateway.api("roster").get(f"{gateway.url}/api/v1/contexts/{context}/members?role=Learner",
                                               timeout=15)
            assert roster.status_code == 200, roster.text
            [member] = roster.json()["data"]
            assert (member["sub"], member["status"], member["learner"]) == ("tp-newcomer", "Active", True)
            assert store.roster_reads == [{"role": "Learner", "limit": "100"}]
            api = Api(gateway)
            with running(gateway.services):
                made = api.ok("POST", f"/api/v1/contexts/{context}/assignments",
                              json={"title": "Ratio tables", "points_possible": 20})
                graded = api.ok("PUT", f"/api/v1/contexts/{context}/assignments/{made['assignment']['id']}"
                                       f"/grades/{member['user_id']}", json={"score_given": 12, "score_maximum": 20})
                api.settle(made["delivery"]["id"], graded["delivery"]["id"])
                assert api.delivery(graded["delivery"]["id"])["state"] == "delivered"
                [(_, score)] = store.scores
                assert (score["userId"], score["scoreGiven"]) == ("tp-newcomer", 12)
    finally:
        gateway.close()
    gateway.contract.assert_clean()
