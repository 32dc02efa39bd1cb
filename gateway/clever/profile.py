"""What a Clever login tells the vendor app: the integration type, roles, and only the personal data shared.

Least data (Clever Library docs): a Library install shares a teacher's name and email and, for a student, the
first name and last initial. The gateway passes on no more than that even if Clever sent more, and the record
names the fields it carries (``shared_fields``). District logins pass first and last name, and email when
Clever has one (young students often have none). No SIS ids, grades or demographics go to the vendor here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.clever.errors import CleverUserIncomplete
from gateway.clever.types import CleverUser, Me

INTEGRATIONS = ("library", "district_sso", "secure_sync")


@dataclass(frozen=True)
class SharedProfile:
    first: str | None
    last: str | None
    last_initial: str | None
    email: str | None
    shared_fields: tuple[str, ...]


def _initial(last: str | None) -> str | None:
    for char in last or "":
        if char.isalpha():
            return char.upper()
    return None


def integration_of(me: Me, *, district_connected: bool) -> str:
    """Library when a teacher authorized the app; else District SSO, or Secure Sync if the district is connected."""
    if me.authorized_by == "teacher":
        return "library"
    if me.authorized_by == "district" and me.district_id:
        return "secure_sync" if district_connected else "district_sso"
    raise CleverUserIncomplete("Clever did not say who authorized this app (`authorized_by`).")


def check_same_user(me: Me, user: CleverUser) -> None:
    """``/users/{id}`` must describe the person ``/me`` named; checked before anything is stored."""
    if user.id != me.user_id:
        raise CleverUserIncomplete("Clever's user record does not match the signed-in user.")


def shared_profile(user: CleverUser, integration: str) -> SharedProfile:
    name = user.name
    if integration == "library" and "student" in user.role_names and "teacher" not in user.role_names:
        initial = _initial(name.last)
        fields = tuple(f for f, v in (("name.first", name.first), ("name.last_initial", initial)) if v)
        return SharedProfile(name.first, None, initial, None, fields)
    email = user.email
    fields = tuple(f for f, v in (("name.first", name.first), ("name.last", name.last), ("email", email)) if v)
    return SharedProfile(name.first, name.last, _initial(name.last), email, fields)


def launch_record(
    *,
    me: Me,
    user: CleverUser,
    integration: str,
    gateway_user_id: str,
    initiated_by: str,
    previous_launch_id: str | None,
) -> dict[str, Any]:
    """The vendor-facing launch document (``CleverLaunch`` in openapi.yaml), without id/kind/created_at."""
    check_same_user(me, user)
    profile = shared_profile(user, integration)
    return {
        "integration": integration,
        "authorized_by": me.authorized_by,
        "initiated_by": initiated_by,
        "user_id": gateway_user_id,
        "clever_user_id": user.id,
        "district_id": None if integration == "library" else me.district_id,
        "roles": list(user.role_names),
        "name": {"first": profile.first, "last": profile.last, "last_initial": profile.last_initial},
        "email": profile.email,
        "shared_fields": list(profile.shared_fields),
        "replace_session": True,
        "previous_launch_id": previous_launch_id,
    }
