"""What a Clever login hands to the vendor: integration type and least data."""

from __future__ import annotations

import pytest

from gateway.clever.errors import CleverUserIncomplete
from gateway.clever.profile import integration_of, launch_record, shared_profile
from gateway.clever.types import CleverUser, Me
from sandbox.clever import records

UID = "a" * 24


def _user(roles: dict[str, dict[str, str]], *, last: str = "Silva", email: str | None = None) -> CleverUser:
    return CleverUser.parse(records.user(UID, "d1", first="Ana", last=last, middle="Maria", email=email, roles=roles))


@pytest.mark.parametrize(
    ("authorized_by", "district", "connected", "expected"),
    [
        ("teacher", None, False, "library"),
        ("teacher", "d1", True, "library"),
        ("district", "d1", False, "district_sso"),
        ("district", "d1", True, "secure_sync"),
    ],
)
def test_integration_type(authorized_by: str, district: str | None, connected: bool, expected: str) -> None:
    me = Me(UID, district, "user", authorized_by)
    assert integration_of(me, district_connected=connected) == expected


@pytest.mark.parametrize("me", [Me(UID, "d1", "user", None), Me(UID, None, "user", "district")])
def test_unknown_authorization_is_refused(me: Me) -> None:
    with pytest.raises(CleverUserIncomplete):
        integration_of(me, district_connected=False)


@pytest.mark.parametrize("last", ["Silva", "S", "S."])
def test_library_student_gets_first_name_and_last_initial_only(last: str) -> None:
    profile = shared_profile(_user({"student": {"sis_id": "S1"}}, last=last, email="kid@example.org"), "library")
    assert (profile.first, profile.last, profile.last_initial, profile.email) == ("Ana", None, "S", None)
    assert profile.shared_fields == ("name.first", "name.last_initial")


def test_library_teacher_shares_name_and_email() -> None:
    profile = shared_profile(_user({"teacher": {}}, email="t@example.org"), "library")
    assert (profile.first, profile.last, profile.email) == ("Ana", "Silva", "t@example.org")
    assert profile.shared_fields == ("name.first", "name.last", "email")


def test_district_student_without_email() -> None:
    profile = shared_profile(_user({"student": {"sis_id": "S1"}}), "district_sso")
    assert profile.email is None
    assert profile.shared_fields == ("name.first", "name.last")


def test_launch_record_never_carries_middle_name_sis_ids_or_schools() -> None:
    user = _user({"teacher": {"sis_id": "T1", "school": "s1"}, "staff": {"staff_id": "X"}}, email="t@example.org")
    record = launch_record(me=Me(UID, "d1", "user", "district"), user=user, integration="district_sso",
                           gateway_user_id="usr_1", initiated_by="clever", previous_launch_id=None)
    assert record["roles"] == ["teacher", "staff"]
    assert record["name"] == {"first": "Ana", "last": "Silva", "last_initial": "S"}
    text = repr(record)
    for absent in ("Maria", "T1", "s1", "X'"):
        assert absent not in text
    assert record["replace_session"] is True


def test_user_record_of_someone_else_is_refused() -> None:
    with pytest.raises(CleverUserIncomplete):
        launch_record(me=Me("b" * 24, "d1", "user", "district"), user=_user({"teacher": {}}),
                      integration="district_sso", gateway_user_id="usr_1", initiated_by="app",
                      previous_launch_id=None)
