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
to keep, and grades carry an event time so the newer one wins (see ``claim_for_delivery``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Table,
    and_,
    bindparam,
    case,
    delete,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from gateway.store.models.writeback import (
    DEAD,
    DELIVERED,
    DELIVERING,
    QUEUED,
    UNFINISHED,
    OutboxRow,
)


def _states(column: InstrumentedAttribute[str], states: Sequence[str]) -> ColumnElement[bool]:
    """``column IN (...)`` with the states as SQL literals, not parameters.

    A planner uses a partial index only when it can prove the query's predicate implies the index's, and it
    cannot prove that from parameters (SQLite never; PostgreSQL not in a generic plan of a prepared statement).
    """
    return column.in_([literal(state, literal_execute=True) for state in states])


def _claimable(now: dt.datetime) -> ColumnElement[bool]:
    """Queued and due, or delivering with an expired lease (its worker died) and attempts left.

    A ``CASE`` rather than an ``OR`` of two ``state = ...`` terms: it offers no index a way in, so the claim's
    walk (see ``_CLAIM_PLANNER``) and the claiming UPDATE's lookup by ``seq`` are the only plans (SQLite would
    otherwise union two lookups of the state index, reading every due row, and sort them).
    """
    return case(
        (OutboxRow.state == literal(QUEUED, literal_execute=True), OutboxRow.next_attempt_at <= now),
        (OutboxRow.state == literal(DELIVERING, literal_execute=True),
         and_(OutboxRow.lease_expires_at <= now, OutboxRow.attempts < OutboxRow.max_attempts)),
        else_=false(),
    )


def _unblocked(now: dt.datetime) -> ColumnElement[bool]:
    """No earlier row of the key is unfinished, and no other row of the key is being delivered under a live lease.

    Two probes, each one index lookup: ``ix_outbox_unfinished_key_seq`` (the key's unfinished rows, by seq) and
    ``ix_outbox_delivering_key`` (the key's rows in flight). ``OFFSET 0`` keeps PostgreSQL from turning the
    ``NOT EXISTS`` into an anti-join, whose shape (nested loop, hash, merge) it would pick from statistics a
    young table does not have: without it, a fresh outbox of 10,000 rows planned a nested-loop anti-join that
    read every row of each key for every row of the queue. As correlated subplans they run only for the rows
    the claim's walk reaches, each stopping at its first hit.
    """
    earlier = aliased(OutboxRow)
    inflight = aliased(OutboxRow)
    earlier_unfinished = (
        select(earlier.seq)
        .where(
            earlier.ordering_key == OutboxRow.ordering_key,
            _states(earlier.state, UNFINISHED),
            earlier.seq < OutboxRow.seq,
        )
        .offset(0)
    )
    delivering = (
        select(inflight.seq)
        .where(
            inflight.ordering_key == OutboxRow.ordering_key,
            inflight.state == literal(DELIVERING, literal_execute=True),
            inflight.lease_expires_at > now,
            inflight.seq != OutboxRow.seq,
        )
        .offset(0)
    )
    return and_(~earlier_unfinished.exists(), ~delivering.exists())


# The claim walks ix_outbox_unfinished_seq in seq order and stops at its limit, whatever the planner knows.
# PostgreSQL, for the claim's transaction only: without statistics its planner believes almost no row is
# claimable (default selectivities multiply to "1 row") and sorts what a bitmap scan finds instead, which reads
# and probes every due row on every claim; these settings leave it the ordered index walk. SQLite: the SELECT
# names the index (``INDEXED BY``); left alone, it sorts the due rows in a temporary b-tree.
_CLAIM_PLANNER = ("enable_sort", "enable_bitmapscan", "enable_seqscan")


@compiles(Table, "sqlite")
def _sqlite_table(table: Table, compiler: Any, **kw: Any) -> str:
    """Render a ``with_hint(..., dialect_name="sqlite")`` (``INDEXED BY ...``) after the table's name.

    SQLAlchemy's SQLite compiler drops table hints; SQLite takes ``INDEXED BY`` right after the name. Only the
    claim gives such a hint, so every other statement compiles exactly as before.
    """
    rendered: str = compiler.visit_table(table, **kw)
    hint = (kw.get("fromhints") or {}).get(table)
    return f"{rendered} {hint}" if hint and kw.get("asfrom") else rendered


def _key_lock_id(ordering_key: str) -> int:
    """A signed 64-bit advisory-lock id for an ordering key (a collision only serializes two keys)."""
    digest = hashlib.sha256(b"gateway.outbox:" + ordering_key.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


_LOCK_KEYS = text("SELECT pg_advisory_xact_lock(id) FROM unnest(:ids) AS ids(id)").bindparams(
    bindparam("ids", type_=ARRAY(BigInteger()))
)


_TABLE = cast(Table, OutboxRow.__table__)


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


class OutboxRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    # -- writing ---------------------------------------------------------------------------------

    def add(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert new rows (column values) in one statement: an ``executemany``, not an ORM flush per row.

        ``seq`` comes from the database; nothing is read back, so the rows go out as one batch on both engines.
        Every row names every column it sets (a bulk insert takes the first row's keys for all).
        """
        if rows:
            self._s.execute(insert(_TABLE), list(rows))

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
        predicate = and_(OutboxRow.backend.in_(list(backends)), _claimable(now), _unblocked(now))
        postgres = self._s.get_bind().dialect.name == "postgresql"
        if postgres:
            self._s.execute(select(*(func.set_config(name, "off", true()) for name in _CLAIM_PLANNER)))
        found = self._s.execute(
            select(OutboxRow.seq, OutboxRow.ordering_key)
            .where(_states(OutboxRow.state, UNFINISHED), predicate)  # the term that makes the walk's index usable
            .order_by(OutboxRow.seq)
            .limit(limit)
            .with_for_update(skip_locked=True, of=OutboxRow)
            .with_hint(OutboxRow, "INDEXED BY ix_outbox_unfinished_seq", dialect_name="sqlite")
        ).all()
        if not found:
            return []
        candidates = [seq for seq, _ in found]
        if postgres:
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

    def claim_for_delivery(
        self,
        *,
        owner: str,
        backends: Sequence[str],
        now: dt.datetime,
        lease_until: dt.datetime,
        limit: int,
    ) -> list[tuple[OutboxRow, dt.datetime | None]]:
        """:meth:`claim`, each row that has an event time with the latest one already delivered for its key and kind.

        Read in the claim's transaction (one statement for all its rows), so a delivery needs no transaction of
        its own to learn whether a newer write superseded it (an older grade is skipped, not sent). It cannot
        change before the row is recorded: no other row of the key is delivered while this one is in flight.
        """
        rows = self.claim(owner=owner, backends=backends, now=now, lease_until=lease_until, limit=limit)
        keys = sorted({row.ordering_key for row in rows if row.event_at is not None})
        newest: dict[tuple[str, str], dt.datetime] = {}
        if keys:  # one read for the whole claim, not one transaction per delivery
            found: Any = self._s.execute(
                select(OutboxRow.ordering_key, OutboxRow.kind, func.max(OutboxRow.event_at))
                .where(OutboxRow.ordering_key.in_(keys), OutboxRow.state == DELIVERED)
                .group_by(OutboxRow.ordering_key, OutboxRow.kind)
            )
            newest = {(key, kind): at for key, kind, at in found if at is not None}
        return [(row, newest.get((row.ordering_key, row.kind)) if row.event_at is not None else None)
                for row in rows]

    def _lock_keys(self, keys: Sequence[str]) -> None:
        """PostgreSQL: serialize claims per ordering key until commit (one statement for all the keys).

        Without this, two claimers could each see the other's row as still queued (their
        snapshots predate each other's commit) after a replay or a late-committing enqueue
        made an earlier row of the key queued again, and deliver two rows of one key at once.
        Holding the key's lock, the claiming UPDATE's fresh snapshot sees every earlier claim
        of that key. Locks are taken in ascending id order (``unnest`` keeps the array's order),
        so claimers never deadlock on them. SQLite needs nothing: its claiming UPDATE runs under
        the database's one write lock.
        """
        ids = sorted({_key_lock_id(key) for key in keys})
        self._s.execute(
            _LOCK_KEYS,
            {"ids": ids},
        )

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

    # -- reading ---------------------------------------------------------------------------------

    def page(
        self,
        *,
        api_key_id: str | None,
        states: Sequence[str] = (),
        backend: str | None = None,
        kind: str | None = None,
        ordering_keys: Sequence[str] = (),
        ordering_prefixes: Sequence[str] = (),
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
        if ordering_keys or ordering_prefixes:
            # Some assignments' rows: their own keys, and their grades' keys under prefixes (the console's filter).
            matches: list[ColumnElement[bool]] = []
            if ordering_keys:
                matches.append(OutboxRow.ordering_key.in_(list(ordering_keys)))
            matches += [OutboxRow.ordering_key.startswith(p, autoescape=True) for p in ordering_prefixes]
            query = query.where(or_(*matches))
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
