"""The claim on a young outbox: 10,000 queued rows, never analyzed, on both engines.

A freshly created table has no planner statistics until its first ANALYZE (this machine's PostgreSQL runs with
autovacuum off; in production, any young table before its first auto-analyze). The claim used to collapse
there: PostgreSQL planned a nested-loop anti-join that read every row of each ordering key for every row of the
queue (1-3.5 s a claim at 10,000 rows). These tests read the plans the database makes for the claim's own
statements, as the claim sends them, and count the rows its walk touches (counts, not timings); and they check
that the rules hold on that queue: oldest first, one row per ordering key in flight, locked rows skipped.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, insert, text

from gateway.store import Database
from gateway.store.models.base import utcnow
from gateway.store.models.writeback import DELIVERED, OutboxRow
from gateway.store.repositories.outbox import OutboxRepository
from tests.support.databases import DatabaseFactory

ROWS = 10_000
KEYS = 1_000  # row n belongs to key n % KEYS: ten rows per key, each key's rows 1,000 seqs apart
LEASE = dt.timedelta(seconds=30)
LIMIT = 8
# Joins and sorts are what a planner picks from statistics; the claim must need none of them.
FORBIDDEN = {"Seq Scan", "Sort", "Incremental Sort", "Bitmap Heap Scan", "Bitmap Index Scan", "Nested Loop",
             "Hash Join", "Merge Join", "Hash", "Materialize"}


class _Rollback(Exception):
    pass


def _fill(database: Database) -> Database:
    """ROWS queued rows, never analyzed (and kept from auto-analyze on PostgreSQL)."""
    now = utcnow()
    with database.engine.begin() as conn:
        if database.dialect == "postgresql":
            conn.execute(text("ALTER TABLE outbox SET (autovacuum_enabled = false)"))
        conn.execute(insert(OutboxRow), [
            {"id": f"dlv_{n:05d}", "kind": "grade", "backend": "ags", "ordering_key": f"grade:asg_1:usr_{n % KEYS}",
             "payload_encrypted": "sealed", "state": "queued", "attempts": 0, "max_attempts": 4,
             "next_attempt_at": now, "created_at": now, "updated_at": now}
            for n in range(ROWS)
        ])
    _assert_never_analyzed(database)
    return database


@pytest.fixture
def young(database: Database) -> Database:
    return _fill(database)


@pytest.fixture
def young_pg(db_factory: DatabaseFactory) -> Iterator[Database]:
    database = Database(db_factory.postgres_url())
    yield _fill(database)
    database.dispose()


@pytest.fixture
def young_sqlite(db_factory: DatabaseFactory) -> Iterator[Database]:
    database = Database(db_factory.sqlite_url())
    yield _fill(database)
    database.dispose()


def _assert_never_analyzed(db: Database) -> None:
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            assert conn.execute(text("SELECT count(*) FROM pg_stats WHERE tablename = 'outbox'")).scalar() == 0
            analyzed = conn.execute(text(
                "SELECT last_analyze, last_autoanalyze FROM pg_stat_user_tables WHERE relname = 'outbox'")).one()
            assert analyzed == (None, None)
        else:
            stat1 = conn.execute(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")).scalar()
            if stat1:
                assert conn.execute(text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'outbox'")).scalar() == 0


def _claim(db: Database, owner: str, limit: int = LIMIT) -> list[int]:
    now = utcnow()
    with db.transaction() as s:
        rows = OutboxRepository(s).claim(owner=owner, backends=["ags"], now=now, lease_until=now + LEASE, limit=limit)
        return [row.seq for row in rows]


def _captured_claim(db: Database) -> list[tuple[str, Any]]:
    """The statements one claim sends, with their parameters (the claim itself is rolled back)."""
    captured: list[tuple[str, Any]] = []

    def grab(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        captured.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", grab)
    try:
        with db.transaction() as s:
            now = utcnow()
            assert OutboxRepository(s).claim(owner="probe", backends=["ags"], now=now, lease_until=now + LEASE,
                                             limit=LIMIT)
            raise _Rollback()
    except _Rollback:
        pass
    finally:
        event.remove(db.engine, "before_cursor_execute", grab)
    return [(st, params) for st, params in captured if st.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT")]


def _is_select(statement: str) -> bool:
    return statement.lstrip().upper().startswith("SELECT OUTBOX.SEQ")


def _is_update(statement: str) -> bool:
    return statement.lstrip().upper().startswith("UPDATE OUTBOX")


def _pg_plans(db: Database, analyze_select: bool = False) -> dict[str, dict[str, Any]]:
    """Replay a claim's statements in a rolled-back transaction, explaining its SELECT and its UPDATE."""
    plans: dict[str, dict[str, Any]] = {}
    statements = _captured_claim(db)
    with db.engine.connect() as conn:  # autobegins; rolled back below
        for statement, params in statements:
            if _is_select(statement) or _is_update(statement):
                options = "ANALYZE, FORMAT JSON" if analyze_select and _is_select(statement) else "FORMAT JSON"
                found = conn.exec_driver_sql(f"EXPLAIN ({options}) {statement}", params).scalar()
                document = json.loads(found) if isinstance(found, str) else found
                plans["select" if _is_select(statement) else "update"] = document[0]["Plan"]
            else:
                conn.exec_driver_sql(statement, params)
        conn.rollback()
    assert set(plans) == {"select", "update"}
    return plans


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _subplans(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [node for node in _nodes(plan) if node.get("Parent Relationship") == "SubPlan"]


def _assert_probes_by_ordering_key(plan: dict[str, Any], count: int = 2) -> None:
    """Each "is my key blocked?" check is one index lookup by ordering key, run per row reached."""
    probes = _subplans(plan)
    assert len(probes) == count, plan
    for probe in probes:
        assert probe["Node Type"] in ("Index Scan", "Index Only Scan"), probe
        assert "ordering_key" in probe.get("Index Cond", ""), probe


def test_the_claim_walks_the_unfinished_index_without_statistics_on_postgresql(young_pg: Database) -> None:
    young = young_pg
    plans = _pg_plans(young)
    select = plans["select"]
    assert {node["Node Type"] for node in _nodes(select)} & FORBIDDEN == set(), select
    assert select["Node Type"] == "Limit"
    [lock] = select["Plans"]
    assert lock["Node Type"] == "LockRows"
    [walk] = lock["Plans"]
    assert (walk["Node Type"], walk["Index Name"], walk["Scan Direction"]) == (
        "Index Scan", "ix_outbox_unfinished_seq", "Forward")
    _assert_probes_by_ordering_key(select)

    update = plans["update"]
    assert {node["Node Type"] for node in _nodes(update)} & FORBIDDEN == set(), update
    [target] = [node for node in update["Plans"] if node.get("Parent Relationship") != "SubPlan"]
    assert target["Node Type"] == "Index Scan" and "seq = ANY" in target["Index Cond"], target
    _assert_probes_by_ordering_key(update)


def test_the_claim_reads_a_few_rows_of_a_long_queue_on_postgresql(young_pg: Database) -> None:
    """Rows and probes the walk touches, counted by the executor: the limit and the rows in flight, not 10,000."""
    young = young_pg
    in_flight = _claim(young, "w1", limit=20)
    assert len(in_flight) == 20
    walk = next(node for node in _nodes(_pg_plans(young, analyze_select=True)["select"])
                if node.get("Index Name") == "ix_outbox_unfinished_seq")
    reached = walk["Actual Rows"] + walk.get("Rows Removed by Filter", 0)
    assert walk["Actual Rows"] == LIMIT
    assert reached <= LIMIT + len(in_flight), walk
    for probe in _subplans(walk):
        assert probe["Actual Loops"] <= reached, probe


def test_statistics_do_not_change_the_walk_on_postgresql(young_pg: Database) -> None:
    young = young_pg
    with young.engine.begin() as conn:
        conn.execute(text("ANALYZE outbox"))
    select = _pg_plans(young)["select"]
    assert {node["Node Type"] for node in _nodes(select)} & FORBIDDEN == set(), select
    assert [node.get("Index Name") for node in _nodes(select)][:3] == [None, None, "ix_outbox_unfinished_seq"]


def test_the_claim_walks_the_unfinished_index_on_sqlite(young_sqlite: Database) -> None:
    young = young_sqlite
    statements = _captured_claim(young)
    with young.engine.connect() as conn:
        details = {
            kind: [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)]
            for statement, params in statements
            for kind in (["select"] if _is_select(statement) else ["update"] if _is_update(statement) else [])
        }
    select = details["select"]
    assert select[0] == "SCAN outbox USING INDEX ix_outbox_unfinished_seq", select
    assert not any("TEMP B-TREE" in line for line in select), select
    searches = [line for line in select if line.startswith(("SCAN", "SEARCH"))]
    assert all("USING" in line for line in searches), select  # no table scan, outside or in the probes
    assert "SEARCH outbox_1 USING INDEX ix_outbox_unfinished_key_seq (ordering_key=? AND seq<?)" in select
    update = details["update"]
    assert update[0] == "SEARCH outbox USING INTEGER PRIMARY KEY (rowid=?)", update
    assert all("USING" in line for line in update if line.startswith(("SCAN", "SEARCH"))), update


def test_on_a_long_young_queue_heads_go_oldest_first_one_per_key(young: Database) -> None:
    assert _claim(young, "w1") == list(range(1, LIMIT + 1))  # seq starts at 1
    heads = _claim(young, "w1", limit=KEYS)  # every other key's head, and no second row of any key
    assert heads == list(range(LIMIT + 1, KEYS + 1))
    assert _claim(young, "w2") == []  # every key has its head in flight
    done = [3, 7, 500]
    with young.transaction() as s:
        repo = OutboxRepository(s)
        for seq in done:
            assert repo.finish(seq=seq, owner="w1", attempt=1, values={"state": DELIVERED, "delivered_at": utcnow()})
    assert _claim(young, "w2") == [seq + KEYS for seq in done]  # each key's next row, in seq order


def test_a_claim_skips_rows_another_claim_holds_on_postgresql(young_pg: Database) -> None:
    young = young_pg
    now = utcnow()
    with young.transaction() as held:
        first = OutboxRepository(held).claim(owner="w1", backends=["ags"], now=now, lease_until=now + LEASE, limit=5)
        assert [r.seq for r in first] == [1, 2, 3, 4, 5]
        with young.transaction() as s:
            s.execute(text("SET LOCAL lock_timeout = '10s'"))  # waiting on w1 would fail here, not hang
            second = OutboxRepository(s).claim(owner="w2", backends=["ags"], now=now, lease_until=now + LEASE,
                                               limit=5)
            assert [r.seq for r in second] == [6, 7, 8, 9, 10]
