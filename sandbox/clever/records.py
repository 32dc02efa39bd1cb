"""Spec-shaped Clever records (the definitions of Clever's ``v3.1.yml``) and their per-version views.

Records are kept in their v3.1 shape; :func:`for_version` strips what v3.0 does not have, and
:func:`library_view` cuts a user down to what a Clever Library install shares (Clever's Library docs: teachers' name
and email; students' first name and last initial; no district, SIS id or email for students).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

# Fields v3.1 added over v3.0 (Clever's v3.0 vs v3.1 specs); v3.0 responses never carry them.
_V31_STUDENT_FIELDS = ("frl_status", "gifted_status", "iep_status", "section_504_status", "disability",
                       "home_language", "home_language_code", "preferred_name")
_V31_DISTRICT_FIELDS = ("lms_state", "lms_type", "last_attendance_sync")


def timestamp(at: dt.datetime | None = None) -> str:
    value = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def district(district_id: str, name: str, *, lms_state: str = "success", lms_type: str = "canvas") -> dict[str, Any]:
    return {
        "id": district_id,
        "name": name,
        "state": "success",
        "sis_type": "sftp",
        "last_sync": timestamp(),
        "login_methods": ["clever"],
        "portal_url": f"https://clever.com/in/{name.lower().replace(' ', '-')}",
        "lms_state": lms_state,
        "lms_type": lms_type,
    }


def school(school_id: str, district_id: str, name: str) -> dict[str, Any]:
    now = timestamp()
    return {
        "id": school_id,
        "district": district_id,
        "name": name,
        "school_number": school_id[-4:],
        "sis_id": f"sch-{school_id[-6:]}",
        "created": now,
        "last_modified": now,
        "low_grade": "Kindergarten",
        "high_grade": "8",
        "principal": {"name": "Principal Name", "email": "principal@example.org"},
    }


def user(
    user_id: str,
    district_id: str,
    *,
    first: str,
    last: str,
    middle: str | None = None,
    email: str | None = None,
    roles: dict[str, dict[str, Any]],
    lms_synced: bool = True,
) -> dict[str, Any]:
    """A v3 user; ``roles`` maps a role name to its role object (``sis_id``, ``school``, ``grade``...)."""
    now = timestamp()
    full_roles: dict[str, Any] = {}
    for role, value in roles.items():
        entry = {"legacy_id": user_id[::-1], **value}
        if role in ("student", "teacher"):
            entry.setdefault("created", now)
            entry.setdefault("last_modified", now)
            if "school" in entry:
                entry.setdefault("schools", [entry["school"]])
        if role == "student":
            entry.setdefault("dob", "1/2/2015")
            entry.setdefault("gender", "X")
            entry.setdefault("grade", "5")
            entry.setdefault("frl_status", "Other")
        if role == "teacher":
            entry.setdefault("district", district_id)
        full_roles[role] = entry
    record: dict[str, Any] = {
        "id": user_id,
        "district": district_id,
        "name": {"first": first, "last": last, **({"middle": middle} if middle else {})},
        "created": now,
        "last_modified": now,
        "roles": full_roles,
        "lms_status": {"synced_in_lms": lms_synced},
    }
    if email is not None:
        record["email"] = email
    return record


def section(
    section_id: str,
    district_id: str,
    school_id: str,
    name: str,
    *,
    teachers: list[str],
    students: list[str],
    subject: str = "math",
    grade: str = "5",
    lms_synced: bool = True,
) -> dict[str, Any]:
    now = timestamp()
    return {
        "id": section_id,
        "district": district_id,
        "school": school_id,
        "name": name,
        "sis_id": f"sec-{section_id[-6:]}",
        "subject": subject,
        "grade": grade,
        "teacher": teachers[0] if teachers else None,
        "teachers": list(teachers),
        "students": list(students),
        "created": now,
        "last_modified": now,
        "lms_status": {"synced_in_lms": lms_synced},
    }


def for_version(kind: str, record: dict[str, Any], version: str) -> dict[str, Any]:
    """The record as the given API version shows it."""
    out = copy.deepcopy(record)
    if version == "v3.1":
        return out
    out.pop("lms_status", None)
    if kind == "districts":
        for name in _V31_DISTRICT_FIELDS:
            out.pop(name, None)
    if kind == "users" and isinstance(out.get("roles", {}).get("student"), dict):
        for name in _V31_STUDENT_FIELDS:
            out["roles"]["student"].pop(name, None)
    return out


def library_view(record: dict[str, Any]) -> dict[str, Any]:
    """What a Library (teacher-authorized) token sees of a user."""
    roles = record.get("roles", {})
    name = record.get("name", {})
    out: dict[str, Any] = {"id": record["id"], "created": record["created"],
                           "last_modified": record["last_modified"]}
    if "student" in roles and "teacher" not in roles:
        last = name.get("last") or ""
        out["name"] = {"first": name.get("first"), "last": last[:1]}
        out["roles"] = {"student": {"grade": roles["student"].get("grade", "")}}
        return out
    out["name"] = {k: v for k, v in name.items() if k in ("first", "middle", "last")}
    if record.get("email"):
        out["email"] = record["email"]
    out["roles"] = {"teacher": {}}
    return out
