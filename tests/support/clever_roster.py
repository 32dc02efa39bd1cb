"""A small seeded district in the simulated Clever, and the gateway steps of Secure Sync a test drives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.runtime import PeriodicJob
from sandbox.clever import CleverSim
from tests.support.gateway import GatewayUnderTest
from tests.support.waiting import wait_until


@dataclass(frozen=True)
class SeededDistrict:
    district: str
    school: str
    teacher: str
    students: tuple[str, ...]
    section: str


def seed_district(sim: CleverSim, *, students: int = 3, name: str = "Willow SD") -> SeededDistrict:
    district = sim.add_district(name)
    school = sim.add_school(district, "Willow Elementary")
    teacher = sim.add_user(district, first="Grace", last="Hopper", email="grace@willow.org",
                           roles={"teacher": {"sis_id": "T-1", "school": school}})
    kids = tuple(
        sim.add_user(district, first=f"Kid{i}", last=f"Last{i}",
                     email=f"kid{i}@willow.org" if i % 2 == 0 else None,
                     roles={"student": {"sis_id": f"S-{i}", "school": school}})
        for i in range(students)
    )
    section = sim.add_section(district, school, "Math 4", teachers=[teacher], students=list(kids))
    return SeededDistrict(district, school, teacher, kids, section)


def job(gw: GatewayUnderTest, name: str) -> PeriodicJob:
    return next(j for j in gw.services.periodic_jobs if j.name == name)


def connect_and_sync(gw: GatewayUnderTest) -> None:
    """What the worker does: discover district tokens, then sync every district that is due."""
    job(gw, "clever.district_tokens").run()
    job(gw, "clever.roster_sync").run()


def api_get(gw: GatewayUnderTest, path: str, *, scope: str = "roster", **params: Any) -> dict[str, Any]:
    response = gw.api(scope).get(f"{gw.url}/api/v1/clever{path}", params=params, timeout=10)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def trigger(gw: GatewayUnderTest, district: str, *, full: bool | None = None) -> dict[str, Any]:
    body = None if full is None else {"full": full}
    response = gw.api("admin").post(f"{gw.url}/api/v1/clever/districts/{district}/sync", json=body, timeout=10)
    assert response.status_code == 202, response.text
    result: dict[str, Any] = response.json()
    return result


FINISHED = ("succeeded", "failed")


def sync_now(gw: GatewayUnderTest, district: str, *, full: bool | None = None) -> dict[str, Any]:
    """The vendor's on-demand trigger, then the worker's next pass; returns the district as the API shows it once
    that sync has finished. A gateway under test may run a worker of its own: when its pass claims the district
    first, this pass finds nothing to do, and the answer waits for that worker's sync instead of showing it still
    under way."""
    trigger(gw, district, full=full)
    job(gw, "clever.roster_sync").run()
    shown: dict[str, Any] = {}

    def finished() -> bool:
        shown.update(api_get(gw, f"/districts/{district}"))
        return shown["sync"]["requested_at"] is None and shown["sync"]["status"] in FINISHED

    wait_until(finished, what=f"the sync of district {district} to finish")
    return shown
