"""Each matching strategy over loopback: the simulated LMS launches, the synced roster of the simulated Clever
answers, and the launch record tells the vendor the Clever id and how it was matched."""

from __future__ import annotations

import requests

from tests.integration.identity.world import IdentityWorld, lms_user


def _linked(world: IdentityWorld) -> str:
    seeded = world.district()
    assert world.link_district(seeded.district).status_code == 200
    return seeded.district


def test_sis_id_from_the_lis_claim_links_then_the_next_launch_finds_the_link(world: IdentityWorld) -> None:
    district = _linked(world)
    kid = world.seeded[0].students[1]
    first = world.launch_record(lms_user("lms-kid-1"), lis={"person_sourcedid": "S-1"})
    assert first["clever_match"] == {"result": "sis_id", "clever_user_id": kid, "district_id": district,
                                     "linked_by": "sis_id", "conflict": False}
    assert first["clever"] == {"user_id": kid}
    again = world.launch_record(lms_user("lms-kid-1"), lis={"person_sourcedid": "S-1"})
    assert again["clever_match"]["result"] == "existing" and again["clever_match"]["linked_by"] == "sis_id"
    assert again["user"]["id"] == first["user"]["id"]
    [entry] = [a for a in world.audit() if a.action == "identity.link"]
    assert entry.details["method"] == "sis_id" and entry.details["clever_user_id"] == kid
    assert "roster of district" in entry.details["reason"] and entry.actor == "lti-launch"


def test_sis_id_from_a_configured_custom_parameter(world: IdentityWorld) -> None:
    _linked(world)
    world.rules(sis_id_param="sis_id")
    record = world.launch_record(lms_user("lms-kid-2"), custom={"sis_id": "S-2"},
                                 lis={"person_sourcedid": "S-0"})  # the parameter wins over the LIS claim
    assert record["clever_match"]["result"] == "sis_id"
    assert record["clever"] == {"user_id": world.seeded[0].students[2]}


def test_an_unexpanded_lms_variable_is_no_sis_id(world: IdentityWorld) -> None:
    _linked(world)
    world.rules(sis_id_param="sis_id")
    record = world.launch_record(lms_user("lms-kid-3"), custom={"sis_id": "$Canvas.user.sisIntegrationId"})
    assert record["clever_match"]["result"] == "unmatched" and record["clever"] is None


def test_a_teacher_and_a_student_sharing_an_sis_id_are_told_apart_by_role(world: IdentityWorld) -> None:
    seeded = world.district()
    twin = world.clever.sim.add_user(seeded.district, first="Tia", last="Twin",
                                     roles={"student": {"sis_id": "T-1", "school": seeded.school}})
    world.sync(seeded.district)
    world.link_district(seeded.district)
    student = world.launch_record(lms_user("lms-twin"), lis={"person_sourcedid": "T-1"})
    teacher = world.launch_record(lms_user("lms-grace", learner=False), lis={"person_sourcedid": "T-1"})
    assert student["clever"] == {"user_id": twin}
    assert teacher["clever"] == {"user_id": seeded.teacher}


def test_clever_id_in_a_custom_parameter(world: IdentityWorld) -> None:
    district = _linked(world)
    world.rules(clever_id_param="clever_id")
    kid = world.seeded[0].students[0]
    record = world.launch_record(lms_user("lms-kid-0"), custom={"clever_id": kid},
                                 lis={"person_sourcedid": "S-2"})  # the claim comes before the SIS id
    assert record["clever_match"] == {"result": "launch_claim", "clever_user_id": kid, "district_id": district,
                                      "linked_by": "launch_claim", "conflict": False}


def test_clever_brokered_launch_carries_the_clever_id_as_sub(world: IdentityWorld) -> None:
    _linked(world)
    world.rules(clever_id_from_sub=True)
    kid = world.seeded[0].students[2]
    record = world.launch_record(lms_user(kid))
    assert record["clever_match"]["result"] == "launch_claim" and record["clever"] == {"user_id": kid}


def test_email_matches_only_where_the_registration_allows_it(world: IdentityWorld) -> None:
    _linked(world)
    kid = world.seeded[0].students[0]  # Kid0 has kid0@willow.org
    off = world.launch_record(lms_user("lms-mail", email="Kid0@Willow.org "))
    assert off["clever_match"]["result"] == "unmatched"
    world.rules(email_matching=True)
    on = world.launch_record(lms_user("lms-mail", email="Kid0@Willow.org "))
    assert on["clever_match"]["result"] == "email" and on["clever"] == {"user_id": kid}
    assert on["user"]["id"] == off["user"]["id"]


def test_without_a_linked_district_only_an_existing_link_counts(world: IdentityWorld) -> None:
    world.district()
    world.rules(email_matching=True, clever_id_param="clever_id")
    record = world.launch_record(lms_user("lms-nodistrict", email="kid0@willow.org"),
                                 custom={"clever_id": world.seeded[0].students[0]}, lis={"person_sourcedid": "S-1"})
    assert record["clever_match"] == {"result": "unmatched", "clever_user_id": None, "district_id": None,
                                      "linked_by": None, "conflict": False}
    assert world.counts()["conflicts"] == 0


def test_arriving_from_clever_first_and_the_lms_later_is_one_gateway_user(world: IdentityWorld) -> None:
    _linked(world)
    kid = world.seeded[0].students[1]
    clever_record = world.clever_login(kid)
    before = world.counts()
    record = world.launch_record(lms_user("lms-kid-1"), lis={"person_sourcedid": "S-1"})
    assert record["user"]["id"] == clever_record["user_id"]
    assert record["clever_match"]["result"] == "sis_id"
    after = world.counts()
    assert after["users"] == before["users"]  # the launch's fresh user was folded into the Clever user's
    assert after["lti_identities"] == before["lti_identities"] + 1
    again = world.clever_login(kid)
    assert again["user_id"] == record["user"]["id"]
    view = world.user(record["user"]["id"])
    assert view["clever_user_id"] == kid and [i["sub"] for i in view["lti_identities"]] == ["lms-kid-1"]


def test_matching_needs_no_outbound_call(world: IdentityWorld) -> None:
    _linked(world)
    calls = len(world.clever.sim.requests)
    world.launch_record(lms_user("lms-kid-1"), lis={"person_sourcedid": "S-1"})
    assert len(world.clever.sim.requests) == calls  # the roster is local: no call to Clever on the launch path
    metrics = requests.get(f"{world.url}/metrics", timeout=10).text
    assert 'gateway_identity_matches_total{result="sis_id"} 1.0' in metrics
    assert 'gateway_identity_links_total{method="sis_id"} 1.0' in metrics
