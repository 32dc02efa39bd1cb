"""Every route of the simulated Clever that serves a path of Clever's specs answers once, checked strictly.

Other tests only check the routes they happen to call; this one calls each (both API versions, every record
kind, events, LMS Connect) and fails if a simulator route on a spec path was left out.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
import requests

from sandbox.clever import CleverSim, create_app
from tests.support.clever_roster import seed_district
from tests.support.clever_sim import RunningClever
from tests.support.clever_spec import find, require_specs


@pytest.fixture(autouse=True)
def _specs() -> None:
    require_specs()  # every test here checks against Clever's published specs

_ANY = re.compile(r"<any\(([^)]*)\):(\w+)>")
_ARG = re.compile(r"<(?:\w+:)?(\w+)>")
_PLACEHOLDER = "0123456789abcdef01234567"


def spec_operations_the_simulator_serves() -> set[str]:
    """Expand each simulator rule (``any(...)`` into its options) and keep what a spec operation describes."""
    found: set[str] = set()
    for rule in create_app(CleverSim()).url_map.iter_rules():
        options = [[o.strip().strip('"') for o in m.group(1).split(",")] for m in _ANY.finditer(rule.rule)]
        for choice in itertools.product(*options):
            chosen = iter(choice)
            path = _ANY.sub(lambda _m: next(chosen), rule.rule)  # noqa: B023  # consumed right here
            path = _ARG.sub(_PLACEHOLDER, path)
            for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
                found.update(op.name for op in find(method, path)[:1])
    return found


def test_every_simulator_route_on_a_spec_path_answers_to_spec(clever: RunningClever) -> None:
    sim = clever.sim
    seeded = seed_district(sim, students=2)
    sim.update(seeded.students[0], name={"first": "Re", "last": "Named"})  # an updated event
    gone = sim.add_user(seeded.district, first="Gone", last="Soon", roles={"student": {"sis_id": "S-x"}})
    sim.unshare(gone)  # a deleted event
    event_id = sim.events[-1]["id"]
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {sim.token_for(seeded.district)}"

    def call(method: str, path: str, body: Any = None) -> Any:
        response = api.request(method, clever.url + path, json=body, timeout=10)
        assert response.status_code < 300, (method, path, response.status_code, response.text)
        return response.json() if response.content else None

    ids = {"districts": seeded.district, "schools": seeded.school, "users": seeded.teacher,
           "sections": seeded.section}
    for version in ("v3.0", "v3.1"):
        for kind, record_id in ids.items():
            call("GET", f"/{version}/{kind}")
            call("GET", f"/{version}/{kind}/{record_id}")
        call("GET", f"/{version}/users?role=student")
        call("GET", f"/{version}/sections/{seeded.section}/users")
        call("GET", f"/{version}/users/{seeded.students[0]}/sections")
        events = call("GET", f"/{version}/events")
        assert {e["data"]["type"] for e in events["data"]} >= {"users.created", "users.updated", "users.deleted"}
        call("GET", f"/{version}/events/{event_id}")
    base = f"/v3.1/sections/{seeded.section}/assignments"
    assignment = call("POST", base, {"title": "Fractions", "grading_type": "points", "points_possible": 10})
    assignment_id = assignment["data"]["id"]
    call("GET", f"{base}/{assignment_id}")
    call("PATCH", f"{base}/{assignment_id}", {"description": "Halves and quarters"})
    call("GET", f"{base}/{assignment_id}/submissions")
    call("GET", f"{base}/{assignment_id}/submissions/{seeded.students[1]}")
    call("PATCH", f"{base}/{assignment_id}/submissions/{seeded.students[1]}", {"grade_points": 8.5})
    call("DELETE", f"{base}/{assignment_id}")
    api.close()

    served = spec_operations_the_simulator_serves()
    assert len(served) >= 20, served
    assert served - clever.spec.operations == set(), "simulator routes on spec paths this test never called"
    assert clever.spec.violations == []
