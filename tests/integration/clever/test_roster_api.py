"""The roster API's edges: scopes, paging, unknown ids, bad parameters; and login + sync on both engines."""

from __future__ import annotations

import pytest
import requests

from tests.support.clever_flows import login_record, portal_login
from tests.support.clever_roster import api_get, connect_and_sync, seed_district
from tests.support.clever_sim import Browser, RunningClever
from tests.support.gateway import GatewayUnderTest

ROUTES = [
    ("GET", "/districts", "roster"),
    ("GET", "/districts/d1", "roster"),
    ("GET", "/districts/d1/sections", "roster"),
    ("GET", "/sections/s1/users", "roster"),
    ("GET", "/users/u1", "roster"),
    ("POST", "/districts/d1/sync", "admin"),
]


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
def test_every_roster_route_needs_its_scope(clever_gateway: GatewayUnderTest, method: str, path: str,
                                           scope: str) -> None:
    url = f"{clever_gateway.url}/api/v1/clever{path}"
    other = "admin" if scope == "roster" else "roster"
    wrong = clever_gateway.api("launches", other).request(method, url, timeout=5)
    assert (wrong.status_code, wrong.json()["code"], wrong.json()["required_scope"]) == (
        403, "INSUFFICIENT_SCOPE", scope)
    for key in ("nope", None):
        session = clever_gateway.api(scope, key=key) if key else requests.Session()
        try:
            anonymous = session.request(method, url, timeout=5)
        finally:
            session.close()
        assert anonymous.status_code == 401, anonymous.text
        assert anonymous.headers["Content-Type"].startswith("application/problem+json")


def test_sections_and_their_users_page_with_a_cursor(clever_gateway: GatewayUnderTest,
                                                    clever: RunningClever) -> None:
    sim = clever.sim
    seeded = seed_district(sim, students=3)
    extra = [sim.add_section(seeded.district, seeded.school, f"Art {i}", teachers=[seeded.teacher],
                             students=list(seeded.students[:1])) for i in range(2)]
    connect_and_sync(clever_gateway)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = api_get(clever_gateway, f"/districts/{seeded.district}/sections", limit=2,
                       **({"cursor": cursor} if cursor else {}))
        seen += [s["id"] for s in page["data"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 2 and seen == sorted([seeded.section, *extra])

    members: list[tuple[str, str]] = []
    cursor = None
    pages = 0
    while True:
        page = api_get(clever_gateway, f"/sections/{seeded.section}/users", limit=1,
                       **({"cursor": cursor} if cursor else {}))
        assert len(page["data"]) == 1
        members += [(m["id"], m["section_role"]) for m in page["data"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 4 and members == sorted([(seeded.teacher, "teacher"), *((k, "student")
                                                                              for k in seeded.students)])


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/districts/unknown", 404, "CLEVER_DISTRICT_NOT_FOUND"),
        ("/districts/unknown/sections", 404, "CLEVER_DISTRICT_NOT_FOUND"),
        ("/sections/unknown/users", 404, "CLEVER_SECTION_NOT_FOUND"),
        ("/users/unknown", 404, "CLEVER_USER_NOT_FOUND"),
        ("/districts?cursor=%%%", 400, "INVALID_CURSOR"),
        ("/districts?cursor=WyJhIiwiYiJd", 400, "INVALID_CURSOR"),  # a cursor of the wrong shape
        ("/districts?limit=0", 422, "VALIDATION_FAILED"),
        ("/districts?limit=501", 422, "VALIDATION_FAILED"),
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
    for params in ({"role": "principal"}, {"include_archived": "yes"}):
        refused = api.get(base, params=params, timeout=5)
        assert (refused.status_code, refused.json()["code"]) == (422, "VALIDATION_FAILED")
        assert [e["field"] for e in refused.json()["errors"]] == list(params)


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
