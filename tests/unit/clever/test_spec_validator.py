"""The Swagger 2.0 checker used on the simulated Clever must catch what the specs forbid (else it proves nothing)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.sandbox.clever import records
from tests.support.clever_spec import check

UID = "0123456789abcdef01234567"


def _user(**changes: Any) -> dict[str, Any]:
    user = records.user(UID, "d" * 24, first="A", last="B", roles={"student": {"sis_id": "S1"}})
    user.update(changes)
    return {"data": user}


def test_a_real_record_passes() -> None:
    assert check("GET", f"/v3.1/users/{UID}", 200, _user()) is None
    v30 = {"data": records.for_version("users", _user()["data"], "v3.0")}
    assert check("GET", f"/v3.0/users/{UID}", 200, v30) is None


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


def test_events_are_checked_against_the_subtype_their_type_names() -> None:
    good = {"id": UID, "type": "users.created", "created": records.timestamp(),
            "data": {"object": _user()["data"]}}
    assert check("GET", "/v3.1/events", 200, {"data": [{"data": good}], "links": []}) is None
    bad = {**good, "data": {"object": {**good["data"]["object"], "id": 7}}}
    problem = check("GET", "/v3.1/events", 200, {"data": [{"data": bad}], "links": []})
    assert problem is not None and "7 is not of type 'string'" in problem
    # The base schema alone does not describe `data`: only the subtype can have caught it.
    assert check("GET", "/v3.1/events", 200, {"data": [{"data": {**bad, "type": "x.y"}}], "links": []}) is None


def test_undeclared_statuses_need_clevers_error_body() -> None:
    assert check("GET", "/v3.1/users", 429, {"message": "Too Many Requests"}) is None
    assert check("GET", "/v3.1/users", 429, {"error": "slow down"}) is not None


def test_request_bodies_are_checked_too() -> None:
    path = f"/v3.1/sections/{UID}/assignments"
    ok = {"data": {"id": "x", "title": "t", "grading_type": "points", "state": "open"}}
    assert check("POST", path, 200, ok, {"title": "t", "grading_type": "points"}) is None
    problem = check("POST", path, 200, ok, {"grading_type": "stars"})
    assert problem is not None and "stars" in problem


def test_paths_outside_the_specs_are_not_claimed() -> None:
    with pytest.raises(LookupError):
        check("GET", "/oauth/tokens", 200, {})
