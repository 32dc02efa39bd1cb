"""Transactions and savepoints behave the same on SQLite and PostgreSQL, and the one transaction rule holds."""

from __future__ import annotations

import ast
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from gateway.store import Database
from gateway.store.models.base import new_id
from gateway.store.models.core import UserRow

GATEWAY = Path(__file__).resolve().parents[3] / "gateway"


class Boom(Exception):
    pass


def _clever_ids(db: Database) -> set[str | None]:
    with db.transaction() as s:
        return set(s.scalars(select(UserRow.clever_user_id)).all())


def test_a_savepoint_that_opens_the_transaction_is_undone_when_the_transaction_fails(database: Database) -> None:
    with pytest.raises(Boom), database.transaction() as s:
        with s.begin_nested():
            s.add(UserRow(id=new_id("usr"), clever_user_id="in-savepoint"))
        # Released, but only into the transaction: the transaction decides.
        raise Boom
    assert _clever_ids(database) == set()


def test_a_savepoint_that_opens_the_transaction_rolls_back_alone(database: Database) -> None:
    with database.transaction() as s:
        with pytest.raises(Boom), s.begin_nested():
            s.add(UserRow(id=new_id("usr"), clever_user_id="rolled-back"))
            s.flush()
            raise Boom
        s.add(UserRow(id=new_id("usr"), clever_user_id="after"))
    assert _clever_ids(database) == {"after"}


@pytest.mark.parametrize("outer_first", [True, False], ids=["outer-write-first", "savepoint-first"])
def test_a_failing_savepoint_keeps_the_outer_work(database: Database, outer_first: bool) -> None:
    with database.transaction() as s:
        if outer_first:
            s.add(UserRow(id=new_id("usr"), clever_user_id="outer"))
            s.flush()
        else:
            with s.begin_nested():
                s.add(UserRow(id=new_id("usr"), clever_user_id="outer"))
        with pytest.raises(IntegrityError), s.begin_nested():
            s.add(UserRow(id=new_id("usr"), clever_user_id="outer"))  # uq_users_clever_user_id
        s.add(UserRow(id=new_id("usr"), clever_user_id="later"))
    assert _clever_ids(database) == {"outer", "later"}


def test_concurrent_read_then_write_transactions_queue_for_the_writer(database: Database) -> None:
    """Each transaction reads, then writes, while others commit: none fails with "database is locked"."""
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def request(n: int) -> None:
        barrier.wait()
        for i in range(10):
            try:
                with database.transaction() as s:
                    s.scalar(select(func.count()).select_from(UserRow))
                    s.add(UserRow(id=new_id("usr"), clever_user_id=f"c-{n}-{i}"))
            except Exception as e:  # collected for the assertion below
                errors.append(e)

    threads = [threading.Thread(target=request, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len(_clever_ids(database)) == 40


def _takes_a_session(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
    return any(a.arg in ("session", "s") or (a.annotation is not None and "Session" in ast.unparse(a.annotation))
               for a in args)


def test_no_twin_runs_in_the_callers_transaction() -> None:
    """One function per operation: the session-taking one has no ``_in`` suffix and no standalone twin."""
    twins = [
        f"{path.relative_to(GATEWAY.parent)}:{node.lineno} {node.name}"
        for path in sorted(GATEWAY.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.endswith("_in") and _takes_a_session(node)
    ]
    assert twins == []
