"""LMS Connect calls of the Clever client against the simulator (request and response bodies spec-checked)."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.clever.client import CleverClient
from gateway.clever.errors import CleverBadRequest, CleverNotFound, CleverUnavailable
from gateway.clever.lms import AssignmentDraft, SubmissionUpdate
from sandbox.clever import CleverSim
from tests.support.clever_sim import RunningClever


def _section(sim: CleverSim, *, lms_state: str = "success", synced: bool = True) -> tuple[str, str, str, list[str]]:
    district = sim.add_district("Birch ISD", lms_state=lms_state)
    school = sim.add_school(district)
    teacher = sim.add_user(district, first="T", last="One", roles={"teacher": {"sis_id": "T1", "school": school}})
    kids = [sim.add_user(district, first=f"K{i}", last="Two", roles={"student": {"sis_id": f"S{i}"}})
            for i in range(3)]
    section = sim.add_section(district, school, "Science", teachers=[teacher], students=kids, lms_synced=synced)
    return district, sim.token_for(district), section, kids


def test_assignment_and_grade_round_trip(client: CleverClient, clever_on_fake_clock: RunningClever) -> None:
    sim = clever_on_fake_clock.sim
    district, token, section, kids = _section(sim)
    assert client.lms_ready(token, district, section)
    due = dt.datetime(2026, 12, 1, 17, 0, tzinfo=dt.UTC)
    created = client.create_assignment(token, section, AssignmentDraft(
        title="Fractions quiz", description="Ten questions", due_date=due, points_possible=10.0,
        grading_type="points", submission_types=("link",)))
    assert (created.title, created.points_possible, created.state) == ("Fractions quiz", 10.0, "open")
    assert created.due_date == "2026-12-01T17:00:00.000Z"

    updated = client.update_assignment(token, section, created.id, AssignmentDraft(points_possible=20.0))
    assert (updated.title, updated.points_possible) == ("Fractions quiz", 20.0)
    assert client.get_assignment(token, section, created.id).points_possible == 20.0

    pages = list(client.submissions(token, section, created.id, limit=2))
    assert [len(p.items) for p in pages] == [2, 1]
    assert {s.user_id for p in pages for s in p.items} == set(kids)

    graded = client.update_submission(token, section, created.id, kids[0],
                                      SubmissionUpdate(grade_points=17.5, state="returned", flags=("late",)))
    assert (graded.grade_points, graded.state, graded.flags) == (17.5, "returned", ("late",))
    assert client.submission(token, section, created.id, kids[0]).grade_points == 17.5

    client.delete_assignment(token, section, created.id)
    with pytest.raises(CleverNotFound):
        client.get_assignment(token, section, created.id)
    if clever_on_fake_clock.spec.enabled:  # without Clever's specs nothing is checked (tests/support/clever_spec.py)
        assert clever_on_fake_clock.spec.checked >= 8


def test_not_ready_district_or_section(client: CleverClient, clever_on_fake_clock: RunningClever) -> None:
    sim = clever_on_fake_clock.sim
    district, token, section, _ = _section(sim, lms_state="matching_in_progress", synced=False)
    assert client.lms_state(token, district) == "matching_in_progress"
    assert client.section_synced_in_lms(token, section) is False
    assert not client.lms_ready(token, district, section)
    with pytest.raises(CleverBadRequest):
        client.create_assignment(token, section, AssignmentDraft(title="x"))
    # 400 is final: one POST only.
    assert sum(1 for r in sim.requests if r.method == "POST") == 1


def test_post_is_not_retried_on_5xx_but_patch_is(client: CleverClient, clever_on_fake_clock: RunningClever) -> None:
    sim = clever_on_fake_clock.sim
    _, token, section, kids = _section(sim)
    sim.switches.failures = [502]
    with pytest.raises(CleverUnavailable) as caught:
        client.create_assignment(token, section, AssignmentDraft(title="x"))
    assert caught.value.retryable
    assert sum(1 for r in sim.requests if r.method == "POST") == 1
    created = client.create_assignment(token, section, AssignmentDraft(title="x"))
    sim.switches.failures = [503]
    assert client.update_submission(token, section, created.id, kids[1], SubmissionUpdate(grade="A")).grade == "A"
    assert sum(1 for r in sim.requests if r.method == "PATCH") == 2
