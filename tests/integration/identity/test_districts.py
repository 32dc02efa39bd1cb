"""Districts as the scope of every hand-off: an existing link never crosses into a deployment of another district,
an email is looked up only in the deployment's district, and a claim naming another district's Clever user stays
a conflict for an administrator even when the person is matched at home afterwards."""

from __future__ import annotations

from typing import Any

from tests.integration.identity.world import IdentityWorld, lms_user


def _open_conflicts(world: IdentityWorld) -> list[dict[str, Any]]:
    response = world.admin().get(f"{world.url}/api/v1/admin/identity/conflicts", params={"status": "open"},
                                 timeout=10)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def test_an_existing_link_is_not_handed_to_a_deployment_of_another_district(world: IdentityWorld) -> None:
    home, other = world.district(name="Willow SD"), world.district(name="Oak SD")  # both rosters hold S-1
    kid = home.students[1]
    assert world.link_district(home.district).status_code == 200
    first = world.launch_record(lms_user("lms-kid-1"), lis={"person_sourcedid": "S-1"})
    assert first["clever"] == {"user_id": kid}

    assert world.link_district(other.district).status_code == 200  # the deployment is relinked to district B
    crossed = world.launch_record(lms_user("lms-kid-1"), lis={"person_sourcedid": "S-1"})
    assert crossed["clever_match"] == {"result": "unmatched", "clever_user_id": None, "district_id": other.district,
                                       "linked_by": None, "conflict": True}
    assert crossed["clever"] is None and kid not in str(crossed)
    assert crossed["user"]["id"] == first["user"]["id"]
    [conflict] = _open_conflicts(world)
    assert (conflict["kind"], conflict["method"], conflict["clever_user_ids"]) == ("other_district", "existing", [kid])
    assert conflict["district_id"] == other.district
    assert world.user(first["user"]["id"])["clever_user_id"] == kid  # the link stands; nothing moved to B's kid
    assert [a.details["clever_user_id"] for a in world.audit() if a.action == "identity.link"] == [kid]

    assert world.link_district(home.district).status_code == 200
    back = world.launch_record(lms_user("lms-kid-1"))
    assert back["clever_match"]["result"] == "existing" and back["clever"] == {"user_id": kid}


def test_an_email_held_only_in_another_district_matches_no_one(world: IdentityWorld) -> None:
    home, other = world.district(name="Willow SD"), world.district(name="Oak SD")
    stranger = world.clever.sim.add_user(other.district, first="Far", last="Away", email="far@oak.org",
                                         roles={"student": {"sis_id": "OAK-7", "school": other.school}})
    world.sync(other.district)
    world.link_district(home.district)
    world.rules(email_matching=True)
    record = world.launch_record(lms_user("lms-far", email="far@oak.org"))
    assert record["clever_match"] == {"result": "unmatched", "clever_user_id": None, "district_id": home.district,
                                      "linked_by": None, "conflict": False}
    assert record["clever"] is None and stranger not in str(world.user(record["user"]["id"]))
    assert _open_conflicts(world) == []


def test_an_email_unique_at_home_matches_the_home_user_though_another_district_holds_it(
        world: IdentityWorld) -> None:
    home, other = world.district(name="Willow SD"), world.district(name="Oak SD")  # both hold kid0@willow.org
    world.link_district(home.district)
    world.rules(email_matching=True)
    record = world.launch_record(lms_user("lms-kid-0", email="kid0@willow.org"))
    assert record["clever_match"] == {"result": "email", "clever_user_id": home.students[0],
                                      "district_id": home.district, "linked_by": "email", "conflict": False}
    assert record["clever"] == {"user_id": home.students[0]} != {"user_id": other.students[0]}
    assert _open_conflicts(world) == []


def test_a_claim_naming_another_districts_user_stays_open_after_a_match_at_home(world: IdentityWorld) -> None:
    home, other = world.district(name="Willow SD"), world.district(name="Oak SD")
    world.link_district(home.district)
    world.rules(clever_id_param="clever_id")
    record = world.launch_record(lms_user("lms-claim"), custom={"clever_id": other.students[0]},
                                 lis={"person_sourcedid": "S-1"})
    assert record["clever_match"]["result"] == "sis_id" and record["clever"] == {"user_id": home.students[1]}
    assert record["clever_match"]["conflict"] is True
    [conflict] = _open_conflicts(world)
    assert (conflict["kind"], conflict["clever_user_ids"]) == ("other_district", [other.students[0]])
    assert not [a for a in world.audit() if a.action == "identity.conflict.resolve"]
