"""The roster API's edges: scopes, paging, unknown ids, bad parameters; and login + sync on both engines."""

from __future__ import annotations

import pytest

from tests.support.clever_flows import login_record, portal_login
from tests.support.clever_roster import api_get, connect_and_sync, seed_district
from tests.support.clever_sim import Browser, RunningClever
from tests.support.gateway import GatewayUnderTest


def test_roster_routes_need_the_roster_scope(clever_gateway: GatewayUnderTest) -> None:
    response = clever_gateway.api("launches").get(f"{clever_gateway.url}/api/v1/clever/districts", timeout=5)
    assert (response.status_code, response.json()["required_scope"]) == (403, "roster")
    anonymous = clever_gateway.api("roster", key="nope").get(f"{clever_gateway.url}/api/v1/clever/districts",
                                                             timeout=5)
    assert anonymous.status_code == 401


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/districts/unknown", 404, "CLEVER_DISTRICT_NOT_FOUND"),
        ("/districts/unknown/sections", 404, "CLEVER_DISTRICT_NOT_FOUND"),
        ("/sections/unknown/users", 404, "CLEVER_SECTION_NOT_FOUND"),
        ("/users/unknown", 404, "CLEVER_USER_NOT_FOUND"),
        ("/districts?cursor=%%%", 400, "INVALID_CURSOR"),
        ("/districts?cursor=WyJhIiwiYiJd", 400, "INVALID_CURSOR"),  # a cursor of the wrong shape
        ("/districts?limit=0", 400, "BAD_REQUEST"),
        ("/districts?limit=501", 400, "BAD_REQUEST"),
    ],
)
def test_refusals(clever_gateway: GatewayUnderTest, path: str, status: int, code: str) -> None:
    response = clever_gateway.api("roster").get(f"{clever_gateway.url}/api/v1/clever{path}", timeout=5)
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == code


def test_bad_role_and_flag(clever_gateway: GatewayUnderTest, clever: RunningClever) -> None:
    seeded = seed_district(clever.sim)
    connect_and_sync(clever_gateway)
    api = clever_gateway.api("roster")
    base = f"{clever_gateway.url}/api/v1/clever/sections/{seeded.section}/users"
    assert api.get(base, params={"role": "principal"}, timeout=5).json()["code"] == "BAD_REQUEST"
    assert api.get(base, params={"include_archived": "yes"}, timeout=5).json()["code"] == "BAD_REQUEST"


def test_districts_page_with_a_cursor(clever_gateway: GatewayUnderTest, clever: RunningClever) -> None:
    for name in ("A", "B", "C"):
        seed_district(clever.sim, students=1, name=name)
    connect_and_sync(clever_gateway)
    first = api_get(clever_gateway, "/districts", limit=2)
    second = api_get(clever_gateway, "/districts", limit=2, cursor=first["next_cursor"])
    assert len(first["data"]) == 2 and len(second["data"]) == 1 and second["next_cursor"] is None
    assert sorted(d["name"] for d in first["data"] + second["data"]) == ["A", "B", "C"]


def test_login_and_sync_on_both_engines(clever_gateway_on: GatewayUnderTest, clever: RunningClever,
                                        browser: Browser) -> None:
    seeded = seed_district(clever.sim)
    connect_and_sync(clever_gateway_on)
    portal_login(clever_gateway_on, clever, browser, seeded.teacher)
    record = login_record(clever_gateway_on, browser)
    assert record["integration"] == "secure_sync"
    teacher = api_get(clever_gateway_on, f"/users/{seeded.teacher}")
    assert teacher["user_id"] == record["user_id"]
    members = api_get(clever_gateway_on, f"/sections/{seeded.section}/users")["data"]
    assert {m["id"]: m["user_id"] for m in members}[seeded.teacher] == record["user_id"]
    found = clever_gateway_on.services.clever.roster.find_users(seeded.district, sis_id="S-2",
                                                                email="GRACE@willow.org ")
    assert found == [seeded.students[2], seeded.teacher]
