"""Who logs in and how: Library teachers and students, district students without email, multi-role users,
and the same person arriving through Library, District SSO and Secure Sync as one gateway user."""

from __future__ import annotations

from sqlalchemy import func, select

from gateway.store.models.clever import CleverRosterUserRow
from gateway.store.models.core import UserRow
from sandbox.clever import CleverSim
from tests.support.clever_flows import login_record, portal_login
from tests.support.clever_sim import Browser, RunningClever
from tests.support.gateway import GatewayUnderTest


def _school(sim: CleverSim, *, connect: bool = False) -> tuple[str, str]:
    district = sim.add_district("Cedar Unified", connect=connect)
    return district, sim.add_school(district)


def test_library_teacher_install(clever_gateway: GatewayUnderTest, clever: RunningClever, browser: Browser) -> None:
    district, school = _school(clever.sim)
    teacher = clever.sim.add_user(district, first="Lee", last="Chen", middle="Q", email="lee@cedar.org",
                                  roles={"teacher": {"sis_id": "T-7", "school": school}})
    portal_login(clever_gateway, clever, browser, teacher, authorized_by="teacher")
    record = login_record(clever_gateway, browser)
    assert (record["integration"], record["authorized_by"], record["district_id"]) == ("library", "teacher", None)
    assert record["name"] == {"first": "Lee", "last": "Chen", "last_initial": "C"}
    assert record["email"] == "lee@cedar.org"
    assert record["shared_fields"] == ["name.first", "name.last", "email"]
    assert record["roles"] == ["teacher"]


def test_library_student_shares_first_name_and_last_initial(clever_gateway: GatewayUnderTest,
                                                            clever: RunningClever, browser: Browser) -> None:
    district, school = _school(clever.sim)
    student = clever.sim.add_user(district, first="Mia", last="Okafor", email="mia@cedar.org",
                                  roles={"student": {"sis_id": "S-3", "school": school}})
    portal_login(clever_gateway, clever, browser, student, authorized_by="teacher")
    record = login_record(clever_gateway, browser)
    assert record["integration"] == "library"
    assert record["name"] == {"first": "Mia", "last": None, "last_initial": "O"}
    assert record["email"] is None
    assert record["shared_fields"] == ["name.first", "name.last_initial"]
    # Issue 12 #10: first name and last initial only: no last name, no email, no district, no SIS id.
    assert record["district_id"] is None
    for withheld in ("Okafor", "mia@cedar.org", "S-3", district):
        assert withheld not in str(record), withheld
    with clever_gateway.services.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(CleverRosterUserRow)) == 0


def test_district_sso_student_without_email(clever_gateway: GatewayUnderTest, clever: RunningClever,
                                            browser: Browser) -> None:
    district, school = _school(clever.sim)
    student = clever.sim.add_user(district, first="Noor", last="Haddad",
                                  roles={"student": {"sis_id": "S-9", "school": school, "grade": "2"}})
    portal_login(clever_gateway, clever, browser, student)
    record = login_record(clever_gateway, browser)
    assert (record["integration"], record["roles"], record["email"]) == ("district_sso", ["student"], None)
    assert record["shared_fields"] == ["name.first", "name.last"]


def test_multi_role_user_keeps_every_role(clever_gateway: GatewayUnderTest, clever: RunningClever,
                                          browser: Browser) -> None:
    district, school = _school(clever.sim)
    person = clever.sim.add_user(district, first="Ira", last="Bell", email="ira@cedar.org", roles={
        "teacher": {"sis_id": "T-1", "school": school},
        "staff": {"staff_id": "ST-1", "schools": [school]},
        "district_admin": {"title": "Coordinator"},
    })
    portal_login(clever_gateway, clever, browser, person)
    assert login_record(clever_gateway, browser)["roles"] == ["teacher", "staff", "district_admin"]


def _gateway_users(gw: GatewayUnderTest) -> list[tuple[str, str | None]]:
    with gw.services.db.transaction() as s:
        return [(u.id, u.clever_user_id) for u in s.scalars(select(UserRow))]


def test_library_then_secure_sync_is_one_gateway_user(clever_gateway: GatewayUnderTest, clever: RunningClever,
                                                      browser: Browser) -> None:
    district, school = _school(clever.sim, connect=True)
    teacher = clever.sim.add_user(district, first="Ada", last="Ng", email="ada@cedar.org",
                                  roles={"teacher": {"sis_id": "T-5", "school": school}})
    portal_login(clever_gateway, clever, browser, teacher, authorized_by="teacher")
    library = login_record(clever_gateway, browser)
    clever_gateway.services.clever.tokens.sync()
    assert clever_gateway.services.clever.sync.sync(district) is not None
    portal_login(clever_gateway, clever, browser, teacher, authorized_by="district")
    district_login = login_record(clever_gateway, browser)
    assert (library["integration"], district_login["integration"]) == ("library", "secure_sync")
    assert library["user_id"] == district_login["user_id"]
    assert _gateway_users(clever_gateway) == [(library["user_id"], teacher)]
    api = clever_gateway.api("roster")
    roster = api.get(f"{clever_gateway.url}/api/v1/clever/users/{teacher}", timeout=5).json()
    assert roster["user_id"] == library["user_id"]


def test_district_sso_then_secure_sync_is_one_gateway_user(clever_gateway: GatewayUnderTest,
                                                           clever: RunningClever, browser: Browser) -> None:
    district, _ = _school(clever.sim, connect=True)
    student = clever.sim.add_user(district, first="Ben", last="Ito", roles={"student": {"sis_id": "S-2"}})
    portal_login(clever_gateway, clever, browser, student)
    before = login_record(clever_gateway, browser)
    clever_gateway.services.clever.tokens.sync()
    portal_login(clever_gateway, clever, browser, student)
    after = login_record(clever_gateway, browser)
    assert (before["integration"], after["integration"]) == ("district_sso", "secure_sync")
    assert before["user_id"] == after["user_id"]
    assert len(_gateway_users(clever_gateway)) == 1
