"""LTI roles in the two forms a vendor app needs: full URIs and simple names, plus coarse flags.

Certification treats short values (``Instructor``), unknown roles, several roles and ``[""]`` as valid
(1EdTech conformance suite). Short context-role names are the deprecated spelling of membership roles, so they
are expanded to the membership URI. The coarse flags come from pylti1p3's role classes, which rank
context roles above institution roles (Canvas sends institution roles that do not apply in a course).
"""

from __future__ import annotations

from dataclasses import dataclass

from pylti1p3.roles import AbstractRole, ObserverRole, StaffRole, StudentRole, TeacherRole, TeachingAssistantRole

import gateway.lti.claims as c

# Short names LTI 1.3 core §5.3.7 lists as context (membership) roles.
CONTEXT_ROLE_NAMES = frozenset(
    {"Administrator", "ContentDeveloper", "Instructor", "Learner", "Mentor", "Manager", "Member", "Officer"}
)


@dataclass(frozen=True)
class Roles:
    full: tuple[str, ...]
    simple: tuple[str, ...]
    instructor: bool
    learner: bool
    teaching_assistant: bool
    mentor: bool
    staff: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "full": list(self.full),
            "simple": list(self.simple),
            "instructor": self.instructor,
            "learner": self.learner,
            "teaching_assistant": self.teaching_assistant,
            "mentor": self.mentor,
            "staff": self.staff,
        }


def simple_name(role: str) -> str:
    """``…/membership#Instructor`` → ``Instructor``; ``…/Instructor#TeachingAssistant`` → ``TeachingAssistant``."""
    return role.rsplit("#", 1)[-1].rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def _dedupe(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def normalize(raw: list[str]) -> Roles:
    full: list[str] = []
    for role in raw:
        role = role.strip()
        if not role:
            continue  # certification: roles [""] is a valid launch with no role
        full.append(c.MEMBERSHIP_ROLE + role if role in CONTEXT_ROLE_NAMES else role)
    body = {c.ROLES: full}
    return Roles(
        full=_dedupe(full),
        simple=_dedupe([simple_name(r) for r in full]),
        instructor=_has(TeacherRole, body),
        learner=_has(StudentRole, body),
        teaching_assistant=_has(TeachingAssistantRole, body),
        mentor=_has(ObserverRole, body),
        staff=_has(StaffRole, body),
    )


def _has(role: type[AbstractRole], body: dict[str, list[str]]) -> bool:
    checker = role(body)
    return bool(checker.check())
