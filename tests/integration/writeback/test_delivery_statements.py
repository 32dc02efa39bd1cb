"""What one delivery costs the database (both engines): statements and transactions, counted, not timed.

The worker's path without its loop: claim what the worker would (one transaction for up to ``concurrency`` rows),
then deliver each claimed row to the test remote and record the outcome (one transaction each). Before, each
grade also opened a transaction of its own to ask whether a newer grade of its key was already delivered.
"""

from __future__ import annotations

import datetime as dt

from gateway.bootstrap import Services
from gateway.store.models.base import utcnow
from gateway.writeback.feature import WritebackFeature
from tests.support.flaky_remote import FlakyRemote
from tests.support.outbox import enqueue, row
from tests.support.writeback_statements import counting

ROWS = 4


def test_a_claim_and_each_delivery_cost_a_fixed_handful(wb: Services, remote: FlakyRemote) -> None:
    ids = [enqueue(wb, key=f"grade:asg_1:usr_{n}", event_at=utcnow(), score_given=n) for n in range(ROWS)]
    source = wb.get(WritebackFeature).work_source("w1")
    with counting(wb.db.engine) as claim:
        claims = source.claim("w1", ROWS, utcnow() + dt.timedelta(seconds=30))
    assert sorted(c.id for c in claims) == sorted(ids)
    # PostgreSQL: planner settings, the walk, the key locks, the UPDATE, the newest delivered grade of each key;
    # SQLite: the walk, the UPDATE, the newest delivered grade. Whatever the number of rows claimed.
    assert len(claim.statements) == (5 if wb.db.dialect == "postgresql" else 3), claim.statements
    assert claim.transactions == 1

    for item in claims:
        with counting(wb.db.engine) as delivery:
            source.run(item)
        assert delivery.statements == [s for s in delivery.statements if s.lstrip().startswith("UPDATE outbox")]
        assert len(delivery.statements) == 1 and delivery.transactions == 1, delivery.statements
    assert [row(wb, i).state for i in ids] == ["delivered"] * ROWS
    assert sorted(remote.accepted_ids()) == sorted(ids)


def test_a_grade_older_than_the_delivered_one_is_skipped_by_what_the_claim_read(wb: Services,
                                                                                  remote: FlakyRemote) -> None:
    key = "grade:asg_1:usr_1"
    source = wb.get(WritebackFeature).work_source("w1")
    newer = enqueue(wb, key=key, event_at=utcnow(), score_given=9)
    [first] = source.claim("w1", 1, utcnow() + dt.timedelta(seconds=30))
    source.run(first)
    older = enqueue(wb, key=key, event_at=utcnow() - dt.timedelta(days=1), score_given=3)
    [second] = source.claim("w1", 1, utcnow() + dt.timedelta(seconds=30))
    assert second.id == older and second.newest_delivered_event_at == row(wb, newer).event_at
    with counting(wb.db.engine) as delivery:
        source.run(second)
    assert len(delivery.statements) == 1
    assert (row(wb, older).state, (row(wb, older).detail or "")[:22]) == ("delivered", "skipped: a newer grade")
    assert remote.accepted_ids() == [newer]
