"""Administration over the API (scope ``admin``): read identities, unlink and relink with the audit trail, manual
links and their refusals, conflicts, unmatched identities, deployment districts and matching rules."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.integration.identity.world import IdentityWorld, lms_user

API = "/api/v1/admin/identity"


@pytest.fixture
def matched(world: IdentityWorld) -> tuple[IdentityWorld, dict[str, Any]]:
    seeded = world.district()
    world.link_district(seeded.district)
    record = world.launch_record(lms_user("lms-kid-1"), lis={"person_sourcedid": "S-1"})
    assert record["clever_match"]["result"] == "sis_id"
    return world, record


def _post(world: IdentityWorld, path: str, body: dict[str, Any]) -> requests.Response:
    return world.admin().post(f"{world.url}{API}{path}", json=body, timeout=10)


def _identity_id(world: IdentityWorld, user_id: str) -> str:
    return str(world.user(user_id)["lti_identities"][0]["id"])


def test_unlink_and_relink_leave_an_audit_trail(matched: tuple[IdentityWorld, dict[str, Any]]) -> None:
    world, record = matched
    kid = world.seeded[0].students[1]
    user_id = record["user"]["id"]
    identity = _identity_id(world, user_id)
    view = world.user(user_id)
    assert view["clever_user_id"] == kid and view["clever_district_id"] == world.seeded[0].district
    assert view["lti_identities"][0]["match"]["status"] == "matched"
    assert view["lti_identities"][0]["match"]["method"] == "sis_id"

    unlinked = _post(world, f"/lti-identities/{identity}/unlink", {"reason": "wrong twin; ticket 41"})
    assert unlinked.status_code == 200, unlinked.text
    body = unlinked.json()
    assert body["user_id"] == user_id and body["clever_user_id"] is None
    assert body["lti_identities"][0]["match"]["status"] == "unlinked"
    assert body["lti_identities"][0]["match"]["blocked_clever_user_id"] == kid
    # The unlinked Clever id is never matched again automatically.
    again = world.launch_record(lms_user("lms-kid-1"), lis={"person_sourcedid": "S-1"})
    assert again["clever_match"]["result"] == "unmatched" and again["user"]["id"] == user_id
    unmatched = world.admin().get(f"{world.url}{API}/unmatched", params={"status": "unlinked"}, timeout=10).json()
    assert [u["lti_identity_id"] for u in unmatched["data"]] == [identity]

    relinked = _post(world, f"/lti-identities/{identity}/link", {"clever_user_id": kid,
                                                                 "reason": "checked with the school; ticket 42"})
    assert relinked.status_code == 200 and relinked.json()["clever_user_id"] == kid
    after = world.launch_record(lms_user("lms-kid-1"))
    assert after["clever_match"]["result"] == "existing" and after["clever_match"]["linked_by"] == "manual"

    trail = [(a.action, a.details.get("method"), a.details.get("reason"), a.actor) for a in world.audit()
             if a.action in ("identity.link", "identity.unlink")]
    key_actor = trail[1][3]
    assert key_actor.startswith("api_key:")
    assert [(action, method) for action, method, _, _ in trail] == [
        ("identity.link", "sis_id"), ("identity.unlink", None), ("identity.link", "manual")]
    assert trail[1][2] == "wrong twin; ticket 41" and trail[2][2] == "checked with the school; ticket 42"


def test_manual_link_refusals(matched: tuple[IdentityWorld, dict[str, Any]]) -> None:
    world, record = matched
    seeded = world.seeded[0]
    identity = _identity_id(world, record["user"]["id"])
    other_user = world.launch_record(lms_user("lms-other"))
    other = _identity_id(world, other_user["user"]["id"])
    oak = world.district(name="Oak SD")
    cases = [
        (f"/lti-identities/{identity}/link", {"clever_user_id": seeded.students[0], "reason": "r"}, 409,
         "IDENTITY_ALREADY_LINKED"),
        (f"/lti-identities/{other}/link", {"clever_user_id": seeded.students[1], "reason": "r"}, 409,
         "IDENTITY_CLEVER_ID_LINKED_ELSEWHERE"),
        (f"/lti-identities/{other}/link", {"clever_user_id": oak.students[0], "reason": "r"}, 409,
         "IDENTITY_DISTRICT_MISMATCH"),
        ("/lti-identities/lid_nope/link", {"clever_user_id": "x", "reason": "r"}, 404, "IDENTITY_NOT_FOUND"),
        (f"/lti-identities/{other}/link", {"clever_user_id": seeded.students[0]}, 400, "IDENTITY_REASON_REQUIRED"),
        (f"/lti-identities/{other}/link", {"clever_user_id": "", "reason": "r"}, 422, "VALIDATION_FAILED"),
        (f"/lti-identities/{other}/link", {"clever_user_id": "a", "reason": "r", "extra": 1}, 422,
         "VALIDATION_FAILED"),
        (f"/lti-identities/{other}/unlink", {"reason": "r"}, 409, "IDENTITY_NOT_LINKED"),
        ("/conflicts/icf_nope/resolve", {"reason": "r"}, 404, "IDENTITY_CONFLICT_NOT_FOUND"),
    ]
    before = world.counts()
    audit_before = len(world.audit())
    for path, body, status, code in cases:
        response = _post(world, path, body)
        assert (response.status_code, response.json()["code"]) == (status, code), (path, response.text)
    assert world.counts() == before and len(world.audit()) == audit_before  # nothing stored
    assert world.user(other_user["user"]["id"])["clever_user_id"] is None


def test_an_admin_link_moves_the_identity_to_the_clever_users_gateway_user(world: IdentityWorld) -> None:
    seeded = world.district()
    kid = seeded.students[0]
    lms_first = world.launch_record(lms_user("lms-a"))  # no district yet: unmatched, an established user
    clever_first = world.clever_login(kid)
    identity = _identity_id(world, lms_first["user"]["id"])
    response = _post(world, f"/lti-identities/{identity}/link", {"clever_user_id": kid, "reason": "same child"})
    assert response.status_code == 200
    assert response.json()["user_id"] == clever_first["user_id"]
    [entry] = [a for a in world.audit() if a.action == "identity.link"]
    assert entry.details["moved_from_user_id"] == lms_first["user"]["id"]
    later = world.launch_record(lms_user("lms-a"))
    assert later["user"]["id"] == clever_first["user_id"] and later["clever_match"]["result"] == "existing"


def test_conflicts_are_listed_and_resolved(world: IdentityWorld) -> None:
    seeded = world.district()
    world.clever.sim.add_user(seeded.district, first="Dup", last="Kid",
                              roles={"student": {"sis_id": "S-1", "school": seeded.school}})
    world.sync(seeded.district)
    world.link_district(seeded.district)
    record = world.launch_record(lms_user("lms-dup"), lis={"person_sourcedid": "S-1"})
    listed = world.admin().get(f"{world.url}{API}/conflicts", params={"limit": 1}, timeout=10).json()
    [conflict] = listed["data"]
    assert listed["next_cursor"] is None and conflict["user_id"] == record["user"]["id"]
    assert world.user(record["user"]["id"])["open_conflicts"][0]["id"] == conflict["id"]
    api = world.admin()  # Idempotency-Key is scoped to the calling key
    url, body = f"{world.url}{API}/conflicts/{conflict['id']}/resolve", {"reason": "the school fixes its SIS ids"}
    resolved = api.post(url, json=body, headers={"Idempotency-Key": "resolve-1"}, timeout=10)
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    replay = api.post(url, json=body, headers={"Idempotency-Key": "resolve-1"}, timeout=10)
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.json() == resolved.json()
    assert world.admin().get(f"{world.url}{API}/conflicts", timeout=10).json()["data"] == []
    every = world.admin().get(f"{world.url}{API}/conflicts", params={"status": "all"}, timeout=10).json()["data"]
    assert every[0]["resolution"] == "the school fixes its SIS ids"


def test_unmatched_identities_page_and_filter(world: IdentityWorld) -> None:
    seeded = world.district()
    world.link_district(seeded.district)
    for sub in ("lms-u1", "lms-u2", "lms-u3"):
        world.launch_record(lms_user(sub))
    first = world.admin().get(f"{world.url}{API}/unmatched", params={"limit": 2}, timeout=10).json()
    second = world.admin().get(f"{world.url}{API}/unmatched", params={"limit": 2, "cursor": first["next_cursor"]},
                               timeout=10).json()
    subs = [u["sub"] for u in first["data"] + second["data"]]
    assert sorted(subs) == ["lms-u1", "lms-u2", "lms-u3"] and second["next_cursor"] is None
    assert all(u["district_id"] == seeded.district for u in first["data"])
    other = world.admin().get(f"{world.url}{API}/unmatched", params={"district_id": "elsewhere"}, timeout=10)
    assert other.json()["data"] == []
    for params, code in (({"status": "matched"}, "VALIDATION_FAILED"), ({"cursor": "!!"}, "INVALID_CURSOR"),
                         ({"limit": "0"}, "VALIDATION_FAILED")):
        response = world.admin().get(f"{world.url}{API}/unmatched", params=params, timeout=10)
        assert response.json()["code"] == code


def test_deployment_district_link_and_its_refusals(world: IdentityWorld) -> None:
    seeded = world.district()
    assert world.link_district("no-such-district").json()["code"] == "IDENTITY_DISTRICT_UNKNOWN"
    linked = world.link_district(seeded.district)
    assert linked.status_code == 200 and linked.json()["clever_district_id"] == seeded.district
    missing = world.admin().put(f"{world.url}{API}/deployments/dep_nope/district",
                                json={"district_id": None, "reason": "r"}, timeout=10)
    assert (missing.status_code, missing.json()["code"]) == (404, "IDENTITY_DEPLOYMENT_NOT_FOUND")
    unlinked = world.link_district(None)
    assert unlinked.json()["clever_district_id"] is None
    audits = [a for a in world.audit() if a.action == "identity.deployment.district"]
    assert [(a.details["district_id"], a.details["previous_district_id"]) for a in audits] == [
        (seeded.district, None), (None, seeded.district)]


def test_matching_rules_read_and_change(world: IdentityWorld) -> None:
    registration = world.lti.registration.id
    url = f"{world.url}{API}/registrations/{registration}/rules"
    assert world.admin().get(url, timeout=10).json() == {
        "registration": registration, "clever_id_param": None, "clever_id_from_sub": False, "sis_id_param": None,
        "sis_id_matching": True, "email_matching": False, "clever_login_linking": False}
    changed = world.rules(email_matching=True, clever_id_param="clever_id")
    assert changed["email_matching"] is True and changed["clever_id_param"] == "clever_id"
    reset = world.rules(clever_id_param=None)
    assert reset["clever_id_param"] is None and reset["email_matching"] is True
    for body in ({"email_matching": "yes"}, {"nonsense": True}, {"sis_id_param": ""}):
        response = world.admin().patch(url, json=body, timeout=10)
        assert (response.status_code, response.json()["code"]) == (422, "VALIDATION_FAILED")
    assert world.admin().get(f"{world.url}{API}/registrations/reg_nope/rules", timeout=10).status_code == 404


def test_admin_routes_need_the_admin_scope(world: IdentityWorld) -> None:
    response = world.gateway.api("launches").get(f"{world.url}{API}/conflicts", timeout=10)
    assert (response.status_code, response.json()["code"]) == (403, "INSUFFICIENT_SCOPE")
