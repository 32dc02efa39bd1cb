"""First launches at once (a class at the bell, spread over replicas) all complete on PostgreSQL.

Launches of several new users into one new course race to insert the same rows (the course, its resource link)
and each user's own (user, identity): a launch that lost one race and then, on its retry, another, answered 500
(found by tests/integration/deploy). Every launch here is a first one for its user, in a course nobody launched.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sandbox.lms.platform import STUDENT, STUDENT_2, TEACHER, LaunchIntent
from tests.support.databases import DatabaseFactory
from tests.support.lti_flow import launch
from tests.support.lti_sandbox import lti_world

ROUNDS = 4  # a fresh course each round: each round is one more chance for the races to interleave badly


def test_first_launches_at_once_all_complete(db_factory: DatabaseFactory, keys_dir: Path) -> None:
    with lti_world(db_factory.postgres_url(), keys_dir) as world:
        refused = []
        for round_ in range(ROUNDS):
            course = f"link-round-{round_}"

            def one(i: int, course: str = course) -> str | None:
                user = (TEACHER, STUDENT, STUDENT_2)[i % 3]
                intent = LaunchIntent(user=user, resource_link_id=course,
                                      extra_claims={"https://purl.imsglobal.org/spec/lti/claim/context": {
                                          "id": f"course-{course}", "title": "Fractions"}})
                result = launch(world.browser(), world.platform.prepare(intent))
                return None if result.code else f"{result.error_code} {result.final.status_code}"

            with ThreadPoolExecutor(max_workers=6) as pool:
                refused += [r for r in pool.map(one, range(6)) if r]
        assert not refused, refused
