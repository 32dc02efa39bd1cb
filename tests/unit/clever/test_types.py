"""Parsers of Clever's JSON: typed results, least data, and clear refusals of malformed answers."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.clever.errors import CleverBadResponse
from gateway.clever.types import (
    CleverUser,
    District,
    DistrictToken,
    Event,
    Me,
    School,
    Section,
    TokenGrant,
    next_link,
    unwrap_list,
)
from sandbox.clever import records


def test_me_of_a_district_login() -> None:
    me = Me.parse({"type": "user", "data": {"id": "u1", "district": "d1", "type": "user",
                                            "authorized_by": "district"}, "links": []})
    assert me == Me(user_id="u1", district_id="d1", type="user", authorized_by="district")


def test_me_of_a_library_login_has_no_district() -> None:
    me = Me.parse({"type": "user", "data": {"id": "u1", "type": "user", "authorized_by": "teacher"}})
    assert me.district_id is None
    assert me.authorized_by == "teacher"


def test_multi_role_user_keeps_every_role_in_spec_order_and_drops_demographics() -> None:
    raw = records.user("a" * 24, "d1", first="Sam", last="Lee", email="sam@example.org", roles={
        "teacher": {"sis_id": "T-9", "school": "s1"},
        "staff": {"staff_id": "ST-4", "schools": ["s2"]},
        "student": {"sis_id": "S-1", "school": "s1", "dob": "1/2/2010"},
    })
    user = CleverUser.parse(raw)
    assert user.role_names == ("student", "teacher", "staff")
    assert {r.role: r.sis_id for r in user.roles} == {"student": "S-1", "teacher": "T-9", "staff": "ST-4"}
    assert "dob" not in repr(user)
    assert user.lms_synced is True


def test_user_without_email_or_middle_name() -> None:
    raw = records.user("b" * 24, "d1", first="Ana", last="Ruiz", roles={"student": {"sis_id": "S"}})
    user = CleverUser.parse(raw)
    assert user.email is None
    assert user.name.middle is None


@pytest.mark.parametrize("body", [None, [], {"data": "x"}, {"data": {"type": "user"}}])
def test_malformed_me_is_a_bad_response(body: Any) -> None:
    with pytest.raises(CleverBadResponse):
        Me.parse(body)


def test_token_grant_never_prints_the_token() -> None:
    grant = TokenGrant.parse({"access_token": "ilsecret-token", "token_type": "bearer"})
    assert "ilsecret" not in repr(grant)
    with pytest.raises(CleverBadResponse):
        TokenGrant.parse({"token_type": "bearer"})


def test_district_token_entry() -> None:
    entry = {"id": "t1", "created": "2016-05-02T22:42:10.533Z", "owner": {"type": "district", "id": "d1"},
             "access_token": "abc", "scopes": ["read:sis"]}
    token = DistrictToken.parse(entry)
    assert (token.district_id, token.scopes) == ("d1", ("read:sis",))
    assert "abc" not in repr(token)
    with pytest.raises(CleverBadResponse):
        DistrictToken.parse({**entry, "owner": {"type": "teacher", "id": "x"}})


def test_section_primary_teacher_comes_first() -> None:
    raw = records.section("c" * 24, "d1", "s1", "Math", teachers=["t2"], students=["s1", "s2"])
    raw["teacher"] = "t1"
    section = Section.parse(raw)
    assert section.teacher_ids == ("t1", "t2")
    assert section.student_ids == ("s1", "s2")


def test_event_type_splits_into_record_type_and_action() -> None:
    event = Event.parse({"id": "e" * 24, "type": "users.deleted", "created": "x", "data": {"object": {"id": "u"}}})
    assert (event.record_type, event.action, event.object["id"]) == ("users", "deleted", "u")


def test_list_envelope_and_next_link() -> None:
    body = {"data": [{"data": {"id": "1"}}], "links": [{"rel": "self", "uri": "/a"},
                                                       {"rel": "next", "uri": "/a?starting_after=1"}]}
    assert unwrap_list(body, "x") == [{"id": "1"}]
    assert next_link(body) == "/a?starting_after=1"
    assert next_link({"links": [{"rel": "self", "uri": "/a"}]}) is None


@pytest.mark.parametrize("uri", ["string", "http://api.clever.com/v3.1/users", "//evil.example/v3.1/users",
                                 "https:/v3.1/users", "/\\evil.example/x"])
def test_a_next_link_that_is_not_a_path_is_a_bad_response(uri: str) -> None:
    with pytest.raises(CleverBadResponse):
        next_link({"links": [{"rel": "next", "uri": uri}]})


@pytest.mark.parametrize("parse", [School.parse, Section.parse, District.parse, CleverUser.parse])
def test_a_record_id_off_the_spec_pattern_is_a_bad_response(parse: Any) -> None:
    with pytest.raises(CleverBadResponse):
        parse({"id": "string", "name": "x"})
    with pytest.raises(CleverBadResponse):
        unwrap_list({"links": []}, "x")
