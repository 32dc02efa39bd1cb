"""The outbox's storage rules on both engines: transactions, encryption, claims, leases, ordering."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from sqlalchemy import select, text

from gateway.bootstrap import Services
from gateway.store.models.base import utcnow
from gateway.store.models.writeback import OutboxRow
from gateway.store.repositories.outbox import OutboxRepository
from gateway.writeback.outbox import OutboxItem
from tests.support.databases import DatabaseFactory
from tests.support.flaky_remote import FlakyRemote
from tests.support.outbox import enqueue, make_services, row
from tests.support.waiting import wait_until

LEASE = dt.timedelta(seconds=30)


def _claim(services: Services, owner: str, limit: int = 10, at: dt.datetime | None = None) -> list[str]:
    now = at or utcnow()
    with services.db.transaction() as s:
        rows = OutboxRepository(s).claim(owner=owner, backends=["test"], now=now, lease_until=now + LEASE, limit=limit)
        return [r.id for r in rows]


def _finish(services: Services, delivery_id: str, owner: str, **values: object) -> bool:
    with services.db.transaction() as s:
        target = row(services, delivery_id)
        return OutboxRepository(s).finish(seq=target.seq, owner=owner, attempt=target.attempts, values=dict(values))


def test_enqueue_commits_or_rolls_back_with_the_callers_transaction(wb: Services) -> None:
    class Refused(Exception):
        pass

    with pytest.raises(Refused), wb.db.transaction() as s:
        wb.outbox.enqueue(s, OutboxItem("grade", "test", "k", {"score": 1}))
        raise Refused()
    with wb.db.transaction() as s:
        assert s.scalars(select(OutboxRow)).all() == []
        made = wb.outbox.enqueue(s, OutboxItem("grade", "test", "k", {"score": 1}))
    stored = row(wb, made.id)
    assert made.id.startswith("dlv_")
    assert (stored.state, stored.attempts, stored.max_attempts) == ("queued", 0, 4)


def test_payloads_are_encrypted_at_rest(wb: Services) -> None:
    delivery_id = enqueue(wb, case="secret", comment="Maya's essay needs a conclusion")
    with wb.db.engine.connect() as conn:
        raw = conn.execute(text("SELECT payload_encrypted FROM outbox WHERE id = :id"), {"id": delivery_id}).scalar()
    assert isinstance(raw, str) and "Maya" not in raw and raw.startswith("v1.")
    assert wb.outbox.payload(row(wb, delivery_id))["comment"] == "Maya's essay needs a conclusion"


def test_nan_and_oversized_keys_are_refused_before_storing(wb: Services) -> None:
    with pytest.raises(ValueError), wb.db.transaction() as s:
        wb.outbox.enqueue(s, OutboxItem("grade", "test", "k", {"score": float("nan")}))
    with pytest.raises(ValueError), wb.db.transaction() as s:
        wb.outbox.enqueue(s, OutboxItem("grade", "test", "k" * 301, {}))
    with wb.db.transaction() as s:
        assert s.scalars(select(OutboxRow)).all() == []


def test_only_the_head_of_each_ordering_key_is_claimable(wb: Services) -> None:
    a1, a2 = enqueue(wb, key="A"), enqueue(wb, key="A")
    b1 = enqueue(wb, key="B")
    assert _claim(wb, "w1") == [a1, b1]
    assert _claim(wb, "w2") == []  # a2 waits for a1, which is in flight
    assert _finish(wb, a1, "w1", state="delivered", delivered_at=utcnow())
    assert _claim(wb, "w2") == [a2]


def test_a_retrying_head_blocks_its_key_but_not_others(wb: Services) -> None:
    a1, a2, b1 = enqueue(wb, key="A"), enqueue(wb, key="A"), enqueue(wb, key="B")
    assert _claim(wb, "w1", limit=1) == [a1]
    later = utcnow() + dt.timedelta(minutes=5)
    assert _finish(wb, a1, "w1", state="queued", next_attempt_at=later)
    assert _claim(wb, "w1") == [b1]  # a1 is not due and a2 must not overtake it
    assert _finish(wb, b1, "w1", state="delivered")
    assert _claim(wb, "w1", at=later) == [a1]
    assert row(wb, a2).state == "queued"


def test_failed_and_dead_heads_unblock_their_key(wb: Services) -> None:
    a1, a2 = enqueue(wb, key="A"), enqueue(wb, key="A")
    assert _claim(wb, "w1") == [a1]
    assert _finish(wb, a1, "w1", state="failed")
    assert _claim(wb, "w1") == [a2]


def test_an_expired_lease_is_claimed_again_and_the_old_owner_cannot_record(wb: Services) -> None:
    a1 = enqueue(wb, key="A")
    assert _claim(wb, "dead-worker") == [a1]
    assert _claim(wb, "w2") == []
    after_lease = utcnow() + LEASE + dt.timedelta(seconds=1)
    assert _claim(wb, "w2", at=after_lease) == [a1]
    assert row(wb, a1).attempts == 2  # the lost attempt counts
    assert not _finish(wb, a1, "dead-worker", state="delivered")
    assert _finish(wb, a1, "w2", state="delivered")
    assert row(wb, a1).state == "delivered"


def test_a_stale_attempt_cannot_record_over_a_later_one_by_the_same_worker(wb: Services) -> None:
    a1 = enqueue(wb, key="A")
    assert _claim(wb, "w1") == [a1]
    assert _claim(wb, "w1", at=utcnow() + LEASE + dt.timedelta(seconds=1)) == [a1]  # stuck, then claimed again
    with wb.db.transaction() as s:
        repo = OutboxRepository(s)
        seq = row(wb, a1).seq
        assert not repo.finish(seq=seq, owner="w1", attempt=1, values={"state": "failed"})
        assert repo.finish(seq=seq, owner="w1", attempt=2, values={"state": "delivered"})
    assert row(wb, a1).state == "delivered"


def test_a_replayed_earlier_row_waits_for_a_later_one_in_flight(wb: Services) -> None:
    a1, a2 = enqueue(wb, key="A"), enqueue(wb, key="A")
    assert _claim(wb, "w1") == [a1]
    assert _finish(wb, a1, "w1", state="dead")
    assert _claim(wb, "w1") == [a2]
    with wb.db.transaction() as s:
        assert wb.outbox.replay(s, [a1], scope=None, actor="test")["replayed"] == [a1]
    assert _claim(wb, "w2") == []  # a2 is being delivered: never two rows of one key at once
    assert _finish(wb, a2, "w1", state="delivered")
    assert _claim(wb, "w2") == [a1]


def test_leases_renew_only_for_their_owner(wb: Services) -> None:
    a1 = enqueue(wb, key="A")
    assert _claim(wb, "w1") == [a1]
    seq = row(wb, a1).seq
    far = utcnow() + dt.timedelta(hours=1)
    with wb.db.transaction() as s:
        assert OutboxRepository(s).renew(owner="intruder", seqs=[seq], lease_until=far) == 0
        assert OutboxRepository(s).renew(owner="w1", seqs=[seq], lease_until=far) == 1
    assert row(wb, a1).lease_expires_at == far


def test_a_row_whose_worker_died_on_its_last_attempt_is_buried(wb: Services) -> None:
    a1 = enqueue(wb, key="A")
    now = utcnow()
    for attempt in range(4):
        at = now + attempt * (LEASE + dt.timedelta(seconds=1))
        assert _claim(wb, f"w{attempt}", at=at) == [a1]
    after = now + 4 * (LEASE + dt.timedelta(seconds=1))
    assert _claim(wb, "w9", at=after) == []  # out of attempts: not claimable
    with wb.db.transaction() as s:
        buried = OutboxRepository(s).bury_exhausted(after, "lease expired")
    assert buried == [(a1, "test", "grade")]
    assert (row(wb, a1).state, row(wb, a1).detail) == ("dead", "lease expired")


def test_rows_for_backends_this_worker_lacks_stay_queued(wb: Services) -> None:
    other = enqueue(wb, key="A", backend="clever")
    assert _claim(wb, "w1") == []
    assert row(wb, other).state == "queued"


def test_concurrent_claims_never_share_a_row(wb: Services) -> None:
    ids = {enqueue(wb, key=f"K{i}") for i in range(24)}
    barrier = threading.Barrier(4)
    results: list[list[str]] = []

    def claimer(name: str) -> None:
        barrier.wait()
        got: list[str] = []
        for _ in range(6):
            got += _claim(wb, name, limit=3)
        results.append(got)

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    claimed = [i for got in results for i in got]
    assert len(claimed) == len(set(claimed)) == len(ids)


def test_claims_of_one_key_are_serialized_on_postgresql(db_factory: DatabaseFactory, keys_dir: Path,
                                                        remote: FlakyRemote) -> None:
    """A replay racing two claimers must not put two rows of one key in flight (snapshots alone would)."""
    services = make_services(db_factory.postgres_url(), keys_dir, remote)
    try:
        a1, a2 = enqueue(services, key="A"), enqueue(services, key="A")
        assert _claim(services, "w1") == [a1]
        assert _finish(services, a1, "w1", state="dead")
        now = utcnow()
        with services.db.transaction() as held:
            # w2 claims a2 and has not committed yet ...
            claimed = OutboxRepository(held).claim(owner="w2", backends=["test"], now=now,
                                                   lease_until=now + LEASE, limit=5)
            assert [r.id for r in claimed] == [a2]
            # ... when an operator replays a1, and w3 looks for work.
            with services.db.transaction() as s:
                assert services.outbox.replay(s, [a1], scope=None, actor="test")["replayed"] == [a1]
            got: list[list[str]] = []
            racer = threading.Thread(target=lambda: got.append(_claim(services, "w3")))
            racer.start()
            wait_until(lambda: _waiting_on_advisory_lock(services) or not racer.is_alive(), what="w3 to wait")
        racer.join(30)
        assert got == [[]], "a1 was claimed while a2 of the same key was in flight"
    finally:
        services.close()


def _waiting_on_advisory_lock(services: Services) -> bool:
    with services.db.engine.connect() as conn:
        return bool(conn.execute(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        )).scalar())
