"""Typed results of calls to Clever: frozen dataclasses built only from Clever's JSON.

Each parser keeps the fields the gateway uses and drops the rest (least data: demographics, birth dates,
addresses and the like never leave the parser). Shapes follow Clever's ``v3.1.yml``
(``User``, ``Roles``, ``Section``, ``School``, ``District``) and ``v3.1-events.yml`` (``Event``), published at
https://github.com/Clever/swagger-api.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from gateway.clever.errors import CleverBadResponse

T = TypeVar("T")

# The order Clever's spec lists roles in (``Roles``); used wherever roles are listed.
ROLE_ORDER = ("student", "teacher", "staff", "district_admin", "contact")


def _obj(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise CleverBadResponse(f"Clever sent {what} that is not an object.")
    return value


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def _required_str(data: Mapping[str, Any], key: str, what: str) -> str:
    value = _str(data.get(key))
    if value is None:
        raise CleverBadResponse(f"Clever sent {what} without `{key}`.")
    return value


# Clever's record ids are Mongo ObjectIds (the LMS Connect spec's ``format: mongo-id`` on the same ids).
_CLEVER_ID = re.compile(r"^[0-9a-f]{24}$")


def _id(data: Mapping[str, Any], what: str) -> str:
    """A record's ``id``, refused unless it has the spec's shape (an id like ``"string"`` is a broken answer)."""
    value = _required_str(data, "id", what)
    if not _CLEVER_ID.fullmatch(value):
        raise CleverBadResponse(f"Clever sent {what} whose id is not a Clever id.")
    return value


def _strs(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value if isinstance(v, str) and v)


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _lms_synced(data: Mapping[str, Any]) -> bool | None:
    status = data.get("lms_status")
    return _bool(status.get("synced_in_lms")) if isinstance(status, Mapping) else None


@dataclass(frozen=True)
class TokenGrant:
    """What ``POST /oauth/tokens`` returned. The token is never printed."""

    access_token: str = field(repr=False)
    id_token: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, body: Any) -> TokenGrant:
        data = _obj(body, "a token response")
        token = _str(data.get("access_token"))
        if token is None:
            raise CleverBadResponse("Clever's token response has no access_token.")
        return cls(token, _str(data.get("id_token")))


@dataclass(frozen=True)
class Me:
    """``GET /v3.0/me`` (Clever Identity API): who the token belongs to and who authorized the app."""

    user_id: str
    district_id: str | None
    type: str | None
    authorized_by: str | None

    @classmethod
    def parse(cls, body: Any) -> Me:
        data = _obj(_obj(body, "a /me response").get("data"), "/me data")
        return cls(
            user_id=_required_str(data, "id", "a /me response"),
            district_id=_str(data.get("district")),
            type=_str(data.get("type")),
            authorized_by=_str(data.get("authorized_by")),
        )


@dataclass(frozen=True)
class Name:
    first: str | None
    middle: str | None
    last: str | None

    @classmethod
    def parse(cls, value: Any) -> Name:
        data = value if isinstance(value, Mapping) else {}
        return cls(_str(data.get("first")), _str(data.get("middle")), _str(data.get("last")))


@dataclass(frozen=True)
class RoleInfo:
    """One entry of ``roles``: only the identifiers matching needs (SIS id, schools)."""

    role: str
    sis_id: str | None
    school_ids: tuple[str, ...]

    @classmethod
    def parse(cls, role: str, value: Mapping[str, Any]) -> RoleInfo:
        # Staff carry `staff_id` where the other roles carry `sis_id` (spec `Staff`).
        sis_id = _str(value.get("sis_id")) or (_str(value.get("staff_id")) if role == "staff" else None)
        schools = list(_strs(value.get("schools")))
        primary = _str(value.get("school"))
        if primary and primary not in schools:
            schools.insert(0, primary)
        return cls(role, sis_id, tuple(schools))


@dataclass(frozen=True)
class CleverUser:
    """A v3 user: one id across roles (https://dev.clever.com/docs/users)."""

    id: str
    district_id: str | None
    email: str | None
    name: Name
    roles: tuple[RoleInfo, ...]
    lms_synced: bool | None = None

    @property
    def role_names(self) -> tuple[str, ...]:
        return tuple(r.role for r in self.roles)

    @classmethod
    def parse(cls, body: Any) -> CleverUser:
        data = _obj(body, "a user")
        found = data.get("roles")
        raw_roles: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        roles = tuple(
            RoleInfo.parse(role, raw_roles[role])
            for role in ROLE_ORDER
            if isinstance(raw_roles.get(role), Mapping)
        )
        return cls(
            id=_id(data, "a user"),
            district_id=_str(data.get("district")),
            email=_str(data.get("email")),
            name=Name.parse(data.get("name")),
            roles=roles,
            lms_synced=_lms_synced(data),
        )


@dataclass(frozen=True)
class UserInfo:
    """``GET /userinfo`` (Clever's OIDC endpoint): only the current login's role; ``sub`` is the v3 user id."""

    sub: str
    user_type: str | None
    district_id: str | None
    email: str | None
    given_name: str | None
    family_name: str | None

    @classmethod
    def parse(cls, body: Any) -> UserInfo:
        data = _obj(body, "a userinfo response")
        return cls(
            sub=_required_str(data, "sub", "a userinfo response"),
            user_type=_str(data.get("user_type")),
            district_id=_str(data.get("district_id")) or _str(data.get("district")),
            email=_str(data.get("email")),
            given_name=_str(data.get("given_name")),
            family_name=_str(data.get("family_name")),
        )


@dataclass(frozen=True)
class District:
    id: str
    name: str | None
    lms_state: str | None
    lms_type: str | None

    @classmethod
    def parse(cls, body: Any) -> District:
        data = _obj(body, "a district")
        return cls(
            id=_id(data, "a district"),
            name=_str(data.get("name")),
            lms_state=_str(data.get("lms_state")),
            lms_type=_str(data.get("lms_type")),
        )


@dataclass(frozen=True)
class School:
    id: str
    district_id: str | None
    name: str | None

    @classmethod
    def parse(cls, body: Any) -> School:
        data = _obj(body, "a school")
        return cls(_id(data, "a school"), _str(data.get("district")), _str(data.get("name")))


@dataclass(frozen=True)
class Section:
    id: str
    district_id: str | None
    school_id: str | None
    name: str | None
    subject: str | None
    grade: str | None
    teacher_ids: tuple[str, ...]
    student_ids: tuple[str, ...]
    lms_synced: bool | None

    @classmethod
    def parse(cls, body: Any) -> Section:
        data = _obj(body, "a section")
        teachers = list(_strs(data.get("teachers")))
        primary = _str(data.get("teacher"))
        if primary and primary not in teachers:
            teachers.insert(0, primary)
        return cls(
            id=_id(data, "a section"),
            district_id=_str(data.get("district")),
            school_id=_str(data.get("school")),
            name=_str(data.get("name")),
            subject=_str(data.get("subject")),
            grade=_str(data.get("grade")),
            teacher_ids=tuple(teachers),
            student_ids=_strs(data.get("students")),
            lms_synced=_lms_synced(data),
        )


@dataclass(frozen=True)
class Event:
    """One Events API entry: ``type`` is ``<record_type>.<action>``; ``object`` is the record as it now is."""

    id: str
    type: str
    created: str | None
    object: Mapping[str, Any] = field(repr=False)

    @property
    def record_type(self) -> str:
        return self.type.partition(".")[0]

    @property
    def action(self) -> str:
        return self.type.partition(".")[2]

    @classmethod
    def parse(cls, body: Any) -> Event:
        data = _obj(body, "an event")
        payload = data.get("data")
        obj = payload.get("object") if isinstance(payload, Mapping) else None
        return cls(
            id=_id(data, "an event"),
            type=_required_str(data, "type", "an event"),
            created=_str(data.get("created")),
            object=obj if isinstance(obj, Mapping) else {},
        )


@dataclass(frozen=True)
class DistrictToken:
    """One entry of ``GET /oauth/tokens?owner_type=district`` (https://dev.clever.com/docs/onboarding)."""

    token_id: str | None
    district_id: str
    access_token: str = field(repr=False)
    scopes: tuple[str, ...] = ()

    @classmethod
    def parse(cls, body: Any) -> DistrictToken:
        data = _obj(body, "a token entry")
        owner = _obj(data.get("owner"), "a token owner")
        if owner.get("type") != "district":
            raise CleverBadResponse("Clever listed a token whose owner is not a district.")
        token = _str(data.get("access_token"))
        if token is None:
            raise CleverBadResponse("Clever listed a district token without access_token.")
        return cls(_str(data.get("id")), _required_str(owner, "id", "a token owner"), token, _strs(data.get("scopes")))


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list; ``next_uri`` is Clever's relative ``rel=next`` link, if any."""

    items: tuple[T, ...]
    next_uri: str | None


def next_link(body: Mapping[str, Any]) -> str | None:
    """The ``rel=next`` URI: a path on the host the page came from (``/v3.1/users?starting_after=...``), else
    :class:`CleverBadResponse` (a link elsewhere, or not a path, is a broken answer, never a URL to call)."""
    links = body.get("links")
    if not isinstance(links, list):
        return None
    for link in links:
        if isinstance(link, Mapping) and link.get("rel") == "next" and _str(link.get("uri")):
            uri = str(link["uri"])
            parts = urlsplit(uri)
            if parts.scheme or parts.netloc or not uri.startswith("/") or uri.startswith("//") or "\\" in uri:
                raise CleverBadResponse("Clever's next link is not a path on the API host.")
            return uri
    return None


def unwrap_list(body: Any, what: str) -> list[Any]:
    """``{"data": [{"data": {...}}, ...]}`` → the inner objects (spec list envelopes)."""
    data = _obj(body, what).get("data")
    if not isinstance(data, list):
        raise CleverBadResponse(f"Clever sent {what} without a data list.")
    return [item.get("data") if isinstance(item, Mapping) else None for item in data]


def unwrap_one(body: Any, what: str) -> Any:
    return _obj(body, what).get("data")
