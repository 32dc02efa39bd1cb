"""Clever records → the roster rows the gateway keeps (least data), and back to what the roster API shows.

Kept per user: roles, SIS id per role, school ids, first and last name, email (encrypted; a keyed digest for
lookup), and whether the LMS has the user. Not kept: middle and preferred names, birth dates, grades, gender,
race, language, programme statuses, addresses, credentials.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gateway.clever.privacy import LookupDigest
from gateway.clever.types import CleverUser, School, Section
from gateway.crypto import Cipher
from gateway.store.models.base import utcnow
from gateway.store.models.clever import CleverRosterUserRow


def profile_context(user_id: str) -> str:
    return f"clever.roster_user.profile:{user_id}"


@dataclass(frozen=True)
class RosterCodec:
    cipher: Cipher
    digest: LookupDigest

    def user_values(self, user: CleverUser, district_id: str, run_id: str | None) -> tuple[dict[str, Any],
                                                                                             dict[str, str]]:
        """Column values and SIS ids (per role) for one user."""
        profile = {"first": user.name.first, "last": user.name.last, "email": user.email}
        schools: list[str] = []
        for role in user.roles:
            schools.extend(s for s in role.school_ids if s not in schools)
        values: dict[str, Any] = {
            "district_id": district_id,
            "roles": list(user.role_names),
            "school_ids": schools,
            "profile_encrypted": self.cipher.encrypt(json.dumps(profile), profile_context(user.id)),
            "email_digest": self.digest.email(user.email),
            "lms_synced": user.lms_synced,
            "updated_at": utcnow(),
        }
        if run_id:
            values["seen_run_id"] = run_id
        sis_ids = {role.role: role.sis_id for role in user.roles if role.sis_id}
        return values, sis_ids

    def profile(self, row: CleverRosterUserRow) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.cipher.decrypt(row.profile_encrypted, profile_context(row.id)))
        return decoded


def school_values(school: School, district_id: str, run_id: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {"district_id": district_id, "name": school.name, "updated_at": utcnow()}
    if run_id:
        values["seen_run_id"] = run_id
    return values


def section_values(section: Section, district_id: str, run_id: str | None) -> tuple[dict[str, Any],
                                                                                    list[tuple[str, str]]]:
    values: dict[str, Any] = {
        "district_id": district_id,
        "school_id": section.school_id,
        "name": section.name,
        "subject": section.subject,
        "grade": section.grade,
        "lms_synced": section.lms_synced,
        "updated_at": utcnow(),
    }
    if run_id:
        values["seen_run_id"] = run_id
    members = [(t, "teacher") for t in section.teacher_ids] + [(s, "student") for s in section.student_ids]
    return values, members
