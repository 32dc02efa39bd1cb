"""The delivery outbox: enqueue, claim with a lease, finish, renew, list, replay, purge.

Claiming is the heart of "nothing lost" and "in order", so its rules live here, once:

- A row is claimable when it is ``queued`` and due, or ``delivering`` with an expired
  lease (its worker died) and attempts left.
- A row is *blocked* while another row of its ordering key is unfinished and earlier
  (lower ``seq``), or is being delivered under a live lease. So each key has at most one
  row in flight, and rows go out in ``seq`` order.
- PostgreSQL: candidates are locked with ``FOR UPDATE SKIP LOCKED``, so any number of
  workers claim disjoint rows, and claims of one ordering key are serialized by an
  advisory lock (see ``_lock_keys``). SQLite: the claiming UPDATE repeats the whole predicate and
  SQLite runs it under its single write lock, so even a second process could not claim a
  row twice; the gateway still runs one worker per SQLite file (see ``runtime/guard.py``).

``seq`` comes from the database at insert time. Two transactions that enqueue the same key
concurrently may commit in the other order than their ``seq``; such requests had no order
to keep, and grades carry an event time so the newer one wins (see ``newest_delivered_event_at``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from gateway.store.models.writeback import (
    DEAD,
    DELIVERED,
    DELIVERING,
    QUEUED,
    UNFINISHED,
    OutboxRow,
)


def _claimable(now: dt.datetime) -> ColumnElement[bool]:
    due = and_(OutboxRow.state == QUEUED, OutboxRow.next_attempt_at <= now)
    orphaned = and_(
        OutboxRow.state == DELIVERING,
        OutboxRow.lease_expires_at <= now,
        OutboxRow.attempts < OutboxRow.max_attempts,
    )
    return or_(due, orphaned)


def _blocked(now: dt.datetime) -> ColumnElement[bool]:
    other = aliased(OutboxRow)
    return (
        select(other.seq)
        .where(
            other.ordering_key == OutboxRow.ordering_key,
            other.seq != OutboxRow.seq,
            or_(
                and_(other.seq < OutboxRow.seq, other.state.in_(UNFINISHED)),
                and_(other.state == DELIVERING, other.lease_expires_at > now),
            ),
        )
        .exists()
    )


def _key_lock_id(ordering_key: str) -> int:
    """A signed 64-bit advisory-lock id for an ordering key (a collision only serializes two keys)."""
    digest = hashlib.sha256(b"gateway.outbox:" + ordering_key.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


class OutboxRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    # -- writing ---------------------------------------------------------------------------------

    def add(self, rows: Iterable[OutboxRow]) -> None:
        self._s.add_all(list(rows))
        self._s.flush()

    def get(self, delivery_id: str) -> OutboxRow | None:
        return self._s.scalars(select(OutboxRow).where(OutboxRow.id == delivery_id)).first()

    # -- claiming --------------------------------------------------------------------------------

    def bury_exhausted(self, now: dt.datetime, detail: str) -> list[tuple[str, str, str]]:
        """Rows whose worker died during their last attempt: ``dead``, not claimable forever. (id, backend, kind)."""
        stale = and_(
            OutboxRow.state == DELIVERING,
            OutboxRow.lease_expires_at <= now,
            OutboxRow.attempts >= OutboxRow.max_attempts,
        )
        rows = self._s.execute(
            update(OutboxRow)
            .where(stale)
            .values(state=DEAD, lease_owner=None, lease_expires_at=None, detail=detail, updated_at=now)
            .returning(OutboxRow.id, OutboxRow.backend, OutboxRow.kind),
            execution_options={"synchronize_session": False},
        ).all()
        return [(str(i), str(b), str(k)) for i, b, k in rows]

    def claim(
        self,
        *,
        owner: str,
        backends: Sequence[str],
        now: dt.datetime,
        lease_until: dt.datetime,
        limit: int,
    ) -> list[OutboxRow]:
        """Lease up to ``limit`` claimable, unblocked rows to ``owner``; each claim counts an attempt."""
        if limit <= 0 or not backends:
            return []
        predicate = and_(OutboxRow.backend.in_(list(backends)), _claimable(now), ~_blocked(now))
        found = self._s.execute(
            select(OutboxRow.seq, OutboxRow.ordering_key)
            .where(predicate)
            .order_by(OutboxRow.seq)
            .limit(limit)
            .with_for_update(skip_locked=True, of=OutboxRow)
        ).all()
        if not found:
            return []
        candidates = [seq for seq, _ in found]
        self._lock_keys(sorted({key for _, key in found}))
        # The UPDATE re-checks everything with a snapshot taken after the key locks: see _lock_keys.
        claimed = self._s.scalars(
            update(OutboxRow)
            .where(OutboxRow.seq.in_(candidates), predicate)
            .values(
                state=DELIVERING,
                lease_owner=owner,
                lease_expires_at=lease_until,
                attempts=OutboxRow.attempts + 1,
                last_attempt_at=now,
                updated_at=now,
            )
            .returning(OutboxRow),
            execution_options={"synchronize_session": False},
        ).all()
        return sorted(claimed, key=lambda row: row.seq)

    def _lock_keys(self, keys: Sequence[str]) -> None:
        """PostgreSQL: serialize claims per ordering key until commit.

        Without this, two claimers could each see the other's row as still queued (their
        snapshots predate each other's commit) after a replay or a late-committing enqueue
        made an earlier row of the key queued again, and deliver two rows of one key at once.
        Holding the key's lock, the claiming UPDATE's fresh snapshot sees every earlier claim
        of that key. Keys are locked in sorted order, so claimers never deadlock on them.
        SQLite needs nothing: its claiming UPDATE runs under the database's one write lock.
        """
        if self._s.get_bind().dialect.name != "postgresql":
            return
        for key in keys:
            self._s.execute(select(func.pg_advisory_xact_lock(_key_lock_id(key))))

    def renew(self, *, owner: str, seqs: Sequence[int], lease_until: dt.datetime) -> int:
        if not seqs:
            return 0
        result = self._s.execute(
            update(OutboxRow)
            .where(OutboxRow.seq.in_(list(seqs)), OutboxRow.lease_owner == owner, OutboxRow.state == DELIVERING)
            .values(lease_expires_at=lease_until)
        )
        return _rowcount(result)

    def finish(self, *, seq: int, owner: str, attempt: int, values: dict[str, Any]) -> bool:
        """Record an attempt's outcome; False when its lease was lost (the row was claimed again since)."""
        result = self._s.execute(
            update(OutboxRow)
            .where(
                OutboxRow.seq == seq,
                OutboxRow.lease_owner == owner,
                OutboxRow.attempts == attempt,  # a later attempt by the same worker is not ours to record
                OutboxRow.state == DELIVERING,
            )
            .values(lease_owner=None, lease_expires_at=None, **values)
        )
        return _rowcount(result) == 1

    def newest_delivered_event_at(self, *, ordering_key: str, kind: str, seq: int) -> dt.datetime | None:
        """The latest event time already delivered for this key and kind (older writes are superseded)."""
        value: dt.datetime | None = self._s.scalar(
            select(func.max(OutboxRow.event_at)).where(
                OutboxRow.ordering_key == ordering_key,
                OutboxRow.kind == kind,
                OutboxRow.state == DELIVERED,
                OutboxRow.seq != seq,
            )
        )
        return value

    # -- reading ---------------------------------------------------------------------------------

    def page(
        self,
        *,
        api_key_id: str | None,
        states: Sequence[str] = (),
        backend: str | None = None,
        kind: str | None = None,
        after_seq: int = 0,
        limit: int = 50,
    ) -> Sequence[OutboxRow]:
        """Rows in ``seq`` order after a cursor; ``api_key_id=None`` means every key's rows (admin)."""
        query = select(OutboxRow).where(OutboxRow.seq > after_seq).order_by(OutboxRow.seq).limit(limit)
        if api_key_id is not None:
            query = query.where(OutboxRow.api_key_id == api_key_id)
        if states:
            query = query.where(OutboxRow.state.in_(list(states)))
        if backend:
            query = query.where(OutboxRow.backend == backend)
        if kind:
            query = query.where(OutboxRow.kind == kind)
        return self._s.scalars(query).all()

    def for_replay(self, ids: Sequence[str], api_key_id: str | None) -> Sequence[OutboxRow]:
        query = select(OutboxRow).where(OutboxRow.id.in_(list(ids))).with_for_update()
        if api_key_id is not None:
            query = query.where(OutboxRow.api_key_id == api_key_id)
        return self._s.scalars(query).all()

    def requeue(self, seq: int, from_states: Sequence[str], now: dt.datetime) -> bool:
        """Back to ``queued`` with attempts reset; only from ``from_states`` (compare-and-set)."""
        result = self._s.execute(
            update(OutboxRow)
            .where(OutboxRow.seq == seq, OutboxRow.state.in_(list(from_states)))
            .values(
                state=QUEUED,
                attempts=0,
                next_attempt_at=now,
                lease_owner=None,
                lease_expires_at=None,
                delivered_at=None,
                updated_at=now,
            )
        )
        return _rowcount(result) == 1

    def depth(self, states: Sequence[str]) -> list[tuple[str, str, int]]:
        """(state, backend, count) for every pair present among ``states``."""
        rows = self._s.execute(
            select(OutboxRow.state, OutboxRow.backend, func.count())
            .where(OutboxRow.state.in_(list(states)))
            .group_by(OutboxRow.state, OutboxRow.backend)
        ).all()
        return [(str(state), str(backend), int(count)) for state, backend, count in rows]

    def oldest_unfinished(self) -> dict[str, dt.datetime]:
        """The creation time of the oldest row in each unfinished state (for "stuck queue" alerts)."""
        rows = self._s.execute(
            select(OutboxRow.state, func.min(OutboxRow.created_at))
            .where(OutboxRow.state.in_(UNFINISHED))
            .group_by(OutboxRow.state)
        ).all()
        return {str(state): created for state, created in rows if created is not None}

    # -- housekeeping ----------------------------------------------------------------------------

    def purge_delivered(self, before: dt.datetime, limit: int = 5000) -> int:
        """Delete delivered rows finished before ``before``, in bounded batches (short write locks)."""
        batch = select(OutboxRow.seq).where(OutboxRow.state == DELIVERED, OutboxRow.delivered_at < before).limit(limit)
        result = self._s.execute(delete(OutboxRow).where(OutboxRow.seq.in_(batch)))
        return _rowcount(result)
