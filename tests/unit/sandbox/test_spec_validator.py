"""The Swagger 2.0 checker used on the simulated Clever must catch what the specs forbid (else it proves nothing)."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.clever import records
from tests.support.clever_spec import check, require_specs


@pytest.fixture(autouse=True)
def _specs() -> None:
    require_specs()  # every test here checks against Clever's published specs

UID = "0123456789abcdef01234567"


def _user(**changes: Any) -> dict[str, Any]:
    user = records.user(UID, "d" * 24, first="A", last="B", roles={"student": {"sis_id": "S1"}})
    user.update(changes)
    return {"data": user}


def test_a_real_record_passes() -> None:
    assert check("GET", f"/v3.1/users/{UID}", 200, _user()) is None
    v30 = {"data": records.for_version("users", _user()["data"], "v3.0")}
    assert check("GET", f"/v3.0/users/{UID}", 200, v30) is None
    listing = {"data": [_user()], "links": [{"rel": "self", "uri": "/v3.1/users"}]}
    assert check("GET", "/v3.1/users", 200, listing) is None


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (_user(id=5), "not of type 'string'"),
        (_user(created="yesterday"), "datetime"),
        (_user(roles={"student": {"grade": "14"}}), "'14' is not one of"),
        (_user(name="Ann"), "not of type 'object'"),
    ],
)
def test_broken_user_bodies_are_caught(body: dict[str, Any], fragment: str) -> None:
    problem = check("GET", f"/v3.1/users/{UID}", 200, body)
    assert problem is not None and fragment in problem


def test_x_nullable_fields_accept_null_and_others_do_not() -> None:
    assert check("GET", f"/v3.1/users/{UID}", 200, _user(email=None)) is None
    school = records.school(UID, "d" * 24, "S")
    assert check("GET", f"/v3.1/schools/{UID}", 200, {"data": {**school, "phone": None}}) is None
    assert check("GET", f"/v3.1/schools/{UID}", 200, {"data": {**school, "name": None}}) is not None


def _event(**changes: Any) -> dict[str, Any]:
    event = {"id": UID, "type": "users.created", "created": records.timestamp(), "data": {"object": _user()["data"]}}
    event.update(changes)
    return event


def _events(*events: dict[str, Any]) -> dict[str, Any]:
    return {"data": [{"data": e} for e in events], "links": []}


def test_events_are_checked_against_the_subtype_their_type_names() -> None:
    good = _event()
    assert check("GET", "/v3.1/events", 200, _events(good)) is None
    bad = {**good, "data": {"object": {**good["data"]["object"], "id": 7}}}
    problem = check("GET", "/v3.1/events", 200, _events(bad))
    assert problem is not None and "7 is not of type 'string'" in problem
    # Read leniently, the base schema alone does not describe `data`: an unknown type slips through.
    assert check("GET", "/v3.1/events", 200, _events({**bad, "type": "x.y"}), strict=False) is None


@pytest.mark.parametrize(
    ("event", "fragment"),
    [
        (_event(type="x.y"), "'x.y' is not one of"),
        (_event(previous_attributes={"name": {"first": "A"}}), "'previous_attributes' was unexpected"),
        (_event(type="users.updated", extra=1), "'extra' was unexpected"),
        (_event(data={"obj": {}}), "'object' is a required property"),
        (_event(data={"object": {"id": UID, "district": "d" * 24, "name": {"first": "A", "last": "B"},
                                 "created": records.timestamp(), "last_modified": records.timestamp(),
                                 "roles": "teacher"}}), "'teacher' is not of type 'object'"),
        ({"type": "users.created", "data": {"object": _user()["data"]}}, "'id' is a required property"),
    ],
)
def test_strict_events(event: dict[str, Any], fragment: str) -> None:
    problem = check("GET", "/v3.1/events", 200, _events(event))
    assert problem is not None and fragment in problem, problem
    assert check("GET", f"/v3.1/events/{UID}", 200, {"data": event}) is not None


def test_updated_events_may_carry_previous_attributes() -> None:
    updated = _event(type="users.updated", previous_attributes={"name": {"first": "A"}})
    assert check("GET", "/v3.1/events", 200, _events(updated)) is None


@pytest.mark.parametrize(
    ("path", "body", "fragment"),
    [
        # The reviewer's example: read as written, Clever's schemas accept it.
        (f"/v3.1/users/{UID}", {"dta": {"idd": 1}}, "'data' is a required property"),
        (f"/v3.1/users/{UID}", _user(nickname="Al"), "'nickname' was unexpected"),
        (f"/v3.1/users/{UID}", _user(roles="teacher"), "'teacher' is not of type 'object'"),
        (f"/v3.1/users/{UID}", _user(roles={"janitor": {}}), "'janitor' was unexpected"),
        (f"/v3.1/users/{UID}", {"data": {"id": UID}}, "is a required property"),
        ("/v3.1/users", {"data": [_user()]}, "'links' is a required property"),
        ("/v3.0/users", {"data": [_user()], "links": [{"uri": "/v3.0/users"}]}, "'rel' is a required property"),
        (f"/v3.0/users/{UID}", _user(lms_status={"synced_in_lms": True}), "'lms_status' was unexpected"),
    ],
)
def test_strict_mode_closes_what_the_specs_leave_open(path: str, body: dict[str, Any], fragment: str) -> None:
    assert check("GET", path, 200, body, strict=False) is None
    problem = check("GET", path, 200, body)
    assert problem is not None and fragment in problem, problem


def test_lists_without_links_pass_only_where_the_spec_omits_empty_ones() -> None:
    path = f"/v3.1/sections/{UID}/assignments/x/submissions"
    assert check("GET", path, 200, {"data": []}) is None


def test_undeclared_statuses_need_clevers_error_body() -> None:
    assert check("GET", "/v3.1/users", 429, {"message": "Too Many Requests"}) is None
    assert check("GET", "/v3.1/users", 429, {"error": "slow down"}) is not None


def test_request_bodies_are_checked_too() -> None:
    path = f"/v3.1/sections/{UID}/assignments"
    now = records.timestamp()
    ok = {"data": {"id": "x", "title": "t", "grading_type": "points", "state": "open", "created": now,
                   "last_modified": now}}
    assert check("POST", path, 200, ok, {"title": "t", "grading_type": "points"}) is None
    problem = check("POST", path, 200, ok, {"grading_type": "stars"})
    assert problem is not None and "stars" in problem
    problem = check("POST", path, 200, ok, {"title": "t", "points": 5})
    assert problem is not None and "'points' was unexpected" in problem


def test_paths_outside_the_specs_are_not_claimed() -> None:
    with pytest.raises(LookupError):
        check("GET", "/oauth/tokens", 200, {})
