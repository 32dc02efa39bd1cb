"""Roles in full and simple forms, with coarse flags (pylti1p3's role classes)."""

from __future__ import annotations

from gateway.lti import claims as c
from gateway.lti.roles import normalize, simple_name


def test_full_uris_give_simple_names_and_flags() -> None:
    roles = normalize([c.MEMBERSHIP_ROLE + "Instructor", c.INSTITUTION_ROLE + "Faculty", c.SYSTEM_ROLE + "User"])
    assert roles.simple == ("Instructor", "Faculty", "User")
    assert roles.instructor and not roles.learner
    assert not roles.staff  # a course role is present, so institution roles do not count (Canvas sends both)
    assert normalize([c.INSTITUTION_ROLE + "Faculty"]).staff


def test_short_context_roles_are_expanded() -> None:
    roles = normalize(["Learner", "Instructor"])
    assert roles.full == (c.MEMBERSHIP_ROLE + "Learner", c.MEMBERSHIP_ROLE + "Instructor")
    assert roles.learner and roles.instructor


def test_empty_and_duplicate_roles() -> None:
    assert normalize([""]).full == () and not normalize([""]).learner
    assert normalize(["Learner", "Learner"]).full == (c.MEMBERSHIP_ROLE + "Learner",)


def test_course_roles_outrank_institution_roles() -> None:
    roles = normalize([c.INSTITUTION_ROLE + "Instructor", c.MEMBERSHIP_ROLE + "Learner"])
    assert roles.learner and not roles.instructor


def test_sub_roles_and_unknown_roles_keep_a_simple_name() -> None:
    assert simple_name(c.MEMBERSHIP_ROLE.rstrip("#") + "/Instructor#TeachingAssistant") == "TeachingAssistant"
    assert normalize([c.MEMBERSHIP_ROLE.rstrip("#") + "/Instructor#TeachingAssistant"]).teaching_assistant
    assert simple_name("urn:lti:role:ims/lis/Mentor") == "Mentor"
    unknown = normalize(["http://example.com/roles#Visitor"])
    assert unknown.simple == ("Visitor",) and not unknown.instructor and not unknown.learner
