"""Each refusal that protects students: no link on an ambiguous email or SIS id, none across districts, none to a
Clever id another LMS account holds, no silent merge of two gateway users; a conflict for an administrator instead."""

from __future__ import annotations

from typing import Any

from tests.integration.identity.world import IdentityWorld, lms_user


def _conflicts(world: IdentityWorld, status: str = "open") -> list[dict[str, Any]]:
    response = world.admin().get(f"{world.url}/api/v1/admin/identity/conflicts", params={"status": status},
                                 timeout=10)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def test_an_email_two_roster_users_share_links_no_one(world: IdentityWorld) -> None:
    seeded = world.district()
    twin = world.clever.sim.add_user(seeded.district, first="Kid0", last="Sibling", email="kid0@willow.org",
                                     roles={"student": {"sis_id": "S-90", "school": seeded.school}})
    world.sync(seeded.district)
    world.link_district(seeded.district)
    world.rules(email_matching=True)
    before = world.counts()
    record = world.launch_record(lms_user("lms-ambiguous", email="kid0@willow.org"))
    assert record["clever_match"]["result"] == "unmatched" and record["clever_match"]["conflict"] is True
    assert record["clever"] is None
    [conflict] = _conflicts(world)
    assert conflict["kind"] == "ambiguous" and conflict["method"] == "email"
    assert sorted(conflict["clever_user_ids"]) == sorted([seeded.students[0], twin])
    assert conflict["user_id"] == record["user"]["id"]
    assert world.user(record["user"]["id"])["clever_user_id"] is None
    assert world.counts()["conflicts"] == before["conflicts"] + 1
    world.launch_record(lms_user("lms-ambiguous", email="kid0@willow.org"))
    [again] = _conflicts(world)
    assert again["id"] == conflict["id"] and again["count"] == 2  # one open conflict, counted
    assert not [a for a in world.audit() if a.action == "identity.link"]


def test_an_ambiguous_sis_id_stops_before_email(world: IdentityWorld) -> None:
    seeded = world.district()
    world.clever.sim.add_user(seeded.district, first="Dup", last="Kid", roles={"student": {"sis_id": "S-1",
                                                                                           "school": seeded.school}})
    world.sync(seeded.district)
    world.link_district(seeded.district)
    world.rules(email_matching=True)
    record = world.launch_record(lms_user("lms-dup", email="kid0@willow.org"), lis={"person_sourcedid": "S-1"})
    assert record["clever_match"]["result"] == "unmatched" and record["clever_match"]["conflict"] is True
    [conflict] = _conflicts(world)
    assert (conflict["kind"], conflict["method"]) == ("ambiguous", "sis_id")


def test_an_sis_id_of_another_district_never_links(world: IdentityWorld) -> None:
    home = world.district(name="Willow SD")
    other = world.district(name="Oak SD")
    stranger = world.clever.sim.add_user(other.district, first="Far", last="Away",
                                         roles={"student": {"sis_id": "OAK-7", "school": other.school}})
    world.sync(other.district)
    world.link_district(home.district)
    record = world.launch_record(lms_user("lms-far"), lis={"person_sourcedid": "OAK-7"})
    assert record["clever_match"] == {"result": "unmatched", "clever_user_id": None, "district_id": home.district,
                                      "linked_by": None, "conflict": False}
    # S-1 exists in both districts: the linked district's holder is the one, never the other's.
    same = world.launch_record(lms_user("lms-s1"), lis={"person_sourcedid": "S-1"})
    assert same["clever"] == {"user_id": home.students[1]} and same["clever"] != {"user_id": other.students[1]}
    assert stranger not in str(world.user(record["user"]["id"]))


def test_a_launch_naming_a_clever_user_of_another_district_is_a_conflict(world: IdentityWorld) -> None:
    home = world.district(name="Willow SD")
    other = world.district(name="Oak SD")
    world.link_district(home.district)
    world.rules(clever_id_param="clever_id")
    record = world.launch_record(lms_user("lms-claim"), custom={"clever_id": other.students[0]})
    assert record["clever_match"]["result"] == "unmatched" and record["clever"] is None
    [conflict] = _conflicts(world)
    assert (conflict["kind"], conflict["clever_user_ids"]) == ("other_district", [other.students[0]])


def test_a_clever_id_linked_to_another_lms_account_is_not_linked_again(world: IdentityWorld) -> None:
    seeded = world.district()
    world.link_district(seeded.district)
    world.rules(clever_id_param="clever_id")
    kid = seeded.students[1]
    first = world.launch_record(lms_user("lms-first"), lis={"person_sourcedid": "S-1"})
    assert first["clever"] == {"user_id": kid}
    second = world.launch_record(lms_user("lms-second"), custom={"clever_id": kid})
    assert second["clever_match"]["result"] == "unmatched" and second["clever_match"]["conflict"] is True
    assert second["user"]["id"] != first["user"]["id"]
    [conflict] = _conflicts(world)
    assert conflict["kind"] == "linked_elsewhere" and conflict["clever_user_ids"] == [kid]
    assert world.user(first["user"]["id"])["clever_user_id"] == kid  # the first link stands
    assert world.user(second["user"]["id"])["clever_user_id"] is None


def test_two_established_gateway_users_are_never_merged_silently(world: IdentityWorld) -> None:
    seeded = world.district()
    kid = seeded.students[2]
    early = world.launch_record(lms_user("lms-early"), lis={"person_sourcedid": "S-2"})  # no district linked yet
    assert early["clever_match"]["result"] == "unmatched"
    from_clever = world.clever_login(kid)
    world.link_district(seeded.district)
    later = world.launch_record(lms_user("lms-early"), lis={"person_sourcedid": "S-2"})
    assert later["user"]["id"] == early["user"]["id"] != from_clever["user_id"]
    assert later["clever_match"]["result"] == "unmatched" and later["clever_match"]["conflict"] is True
    [conflict] = _conflicts(world)
    assert conflict["kind"] == "different_users"
    assert conflict["details"] == {"lti_gateway_user_id": early["user"]["id"],
                                   "clever_gateway_user_id": from_clever["user_id"]}
    unmatched = world.admin().get(f"{world.url}/api/v1/admin/identity/unmatched", params={"status": "conflict"},
                                  timeout=10).json()["data"]
    assert [u["sub"] for u in unmatched] == ["lms-early"]


def test_a_library_user_is_matched_only_by_an_existing_link_or_a_clever_login(world: IdentityWorld) -> None:
    seeded = world.district()
    world.link_district(seeded.district)
    world.rules(clever_id_param="clever_id", email_matching=True)
    library = world.clever.sim.add_district("Library Land", connect=False)
    teacher = world.clever.sim.add_user(library, first="Lib", last="Rary", email="lib@library.org",
                                        roles={"teacher": {"sis_id": "T-1", "school": world.clever.sim.add_school(
                                            library)}})
    world.clever_login(teacher, authorized_by="teacher")  # a Library install: a gateway user, no roster
    record = world.launch_record(lms_user("lms-lib", learner=False, email="lib@library.org"),
                                 custom={"clever_id": teacher})
    assert record["clever_match"]["result"] == "unmatched" and record["clever"] is None
