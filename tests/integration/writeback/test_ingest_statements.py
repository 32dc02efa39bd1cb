"""A batch of grades costs a fixed number of statements and one transaction, whatever its size (both engines).

Counted on the gateway's engine around the HTTP request (the gateway under test serves in this process).
Before: one ORM flush of the outbox rows, which SQLite sent as one INSERT per row.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.writeback_statements import StatementLog, counting, seed_learners
from tests.support.writeback_worlds import AgsWorld, ags_world

# The API key (1 when not cached); the Idempotency-Key: look up, insert, store the answer (3); the context: course,
# registration, deployment (2 of them not cached), coupled placements (4); the assignment (1); the people, with
# their memberships and platform ids (1); the outbox rows (1 INSERT); the audit row (1). Was 14 on PostgreSQL and
# 1,013 on SQLite.
BUDGET = 12


@pytest.fixture
def big_course(database_url: str, keys_dir: Path) -> Iterator[tuple[AgsWorld, list[str]]]:
    # Caches that outlive the test: both batches then read the API key, registration and deployment alike (from the
    # cache), whatever time the large batch takes.
    with ags_world(database_url, keys_dir, worker=False, cache_seconds=600) as world:
        yield world, seed_learners(world.services, world.students[0], 1000)


def _post(world: AgsWorld, assignment_id: str, users: list[str], key: str) -> StatementLog:
    body = {"grades": [{"user_id": u, "score_given": n % 10, "score_maximum": 10} for n, u in enumerate(users)]}
    path = f"/api/v1/contexts/{world.context_id}/assignments/{assignment_id}/grades"
    with counting(world.services.db.engine) as log:
        made = world.api.ok("POST", path, json=body, headers={"Idempotency-Key": key})
    assert made["accepted"] == len(users)
    return log


def test_a_batch_of_1000_grades_costs_what_a_batch_of_10_does(big_course: tuple[AgsWorld, list[str]]) -> None:
    world, users = big_course
    assignment = world.create()["assignment"]["id"]
    for _ in range(2):  # the key's last-use stamp written (once a minute), then the key cached again
        world.api.ok("GET", "/api/v1/whoami", 200)
    small = _post(world, assignment, users[:10], "small")
    large = _post(world, assignment, users, "large")
    assert len(large.statements) == len(small.statements), (small.statements, large.statements)
    assert len(large.statements) <= BUDGET, large.statements
    assert large.transactions == small.transactions
    assert len(large.of("INSERT")) == len(small.of("INSERT"))
