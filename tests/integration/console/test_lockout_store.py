"""Per-account lockout and password changes in the store, on SQLite and PostgreSQL: N failures in a row lock an
account whatever the password, the lock is not counted further and ends on its own or by an admin, two replicas
count one account's failures together, and every refusal of a password change changes nothing."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyotp
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from gateway.console.accounts import AdminAccounts, Lockout
from gateway.console.errors import (
    AccountInvalid,
    AccountNotFound,
    PasswordMismatch,
    PasswordWrong,
    SignInRefused,
)
from gateway.crypto import Cipher
from gateway.store import Database
from gateway.store.models.base import utcnow
from gateway.store.models.console import AdminAccountRow, AdminSessionRow
from gateway.store.models.core import AuditEntryRow
from tests.support.gateway import TEST_ENCRYPTION_KEYS

PASSWORD = "a long enough password"
NEW_PASSWORD = "another long enough password"
WRONG = "not the password at all"


class CountingHasher(PasswordHasher):
    """argon2 at its cheapest (these tests are about counting, not hashing), counting its verifications."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified += 1
        return super().verify(hash, password)


def _accounts(database: Database, attempts: int = 3, **kwargs: Any) -> AdminAccounts:
    return AdminAccounts(database, Cipher.from_spec(TEST_ENCRYPTION_KEYS), idle_timeout=dt.timedelta(minutes=30),
                         max_age=dt.timedelta(hours=12), lockout=Lockout(attempts, dt.timedelta(minutes=15)),
                         hasher=kwargs.pop("hasher", None) or CountingHasher(), **kwargs)


def _row(database: Database, name: str) -> AdminAccountRow:
    with database.transaction() as s:
        row = s.scalars(select(AdminAccountRow).where(AdminAccountRow.name == name)).one()
        s.expunge(row)
        return row


def _audit(database: Database, prefix: str) -> list[tuple[str, str, dict[str, Any]]]:
    with database.transaction() as s:
        rows = s.scalars(select(AuditEntryRow).where(AuditEntryRow.action.startswith(prefix))
                         .order_by(AuditEntryRow.id)).all()
        return [(r.actor, r.action, dict(r.details or {})) for r in rows]


def _refused(accounts: AdminAccounts, name: str, password: str, **kwargs: Any) -> None:
    with pytest.raises(SignInRefused):
        accounts.sign_in(name, password, None, **kwargs)


def test_the_nth_failure_in_a_row_locks_the_account_even_against_the_right_password(database: Database) -> None:
    accounts = _accounts(database, attempts=3)
    accounts.create("alice", PASSWORD, "admin", totp=False, actor="cli")
    now = utcnow()
    for _ in range(2):
        _refused(accounts, "alice", WRONG, now=now)
    assert _row(database, "alice").failed_sign_ins == 2 and _row(database, "alice").locked_until is None
    _refused(accounts, "alice", WRONG, now=now)  # the third locks it
    locked = _row(database, "alice")
    assert locked.locked_until == now + dt.timedelta(minutes=15) and locked.failed_sign_ins == 0
    _refused(accounts, "alice", PASSWORD, now=now + dt.timedelta(minutes=1))
    for _ in range(5):  # not counted while locked: the lock neither grows nor starts again
        _refused(accounts, "alice", WRONG, now=now + dt.timedelta(minutes=2))
    assert _row(database, "alice").locked_until == locked.locked_until
    assert _row(database, "alice").failed_sign_ins == 0
    lock_events = _audit(database, "console.account.lock")
    assert len(lock_events) == 1
    actor, _, details = lock_events[0]
    assert actor == "console" and details["name"] == "alice" and details["attempts"] == 3
    assert PASSWORD not in str(details) and WRONG not in str(details)
    reasons = [d["reason"] for _, _, d in _audit(database, "console.sign_in.refused")]
    assert reasons == ["credentials"] * 3 + ["locked"] * 6
    assert not [a for a in _audit(database, "console.sign_in") if a[1] == "console.sign_in"]


def test_the_lock_ends_after_its_period(database: Database) -> None:
    accounts = _accounts(database, attempts=2)
    accounts.create("alice", PASSWORD, "admin", totp=False, actor="cli")
    now = utcnow()
    for _ in range(2):
        _refused(accounts, "alice", WRONG, now=now)
    _refused(accounts, "alice", PASSWORD, now=now + dt.timedelta(minutes=14, seconds=59))
    token = accounts.sign_in("alice", PASSWORD, None, now=now + dt.timedelta(minutes=15))
    assert accounts.session(token, now=now + dt.timedelta(minutes=15)) is not None
    row = _row(database, "alice")
    assert row.locked_until is None and row.failed_sign_ins == 0


def test_a_good_sign_in_starts_the_count_again(database: Database) -> None:
    accounts = _accounts(database, attempts=3)
    accounts.create("alice", PASSWORD, "admin", totp=False, actor="cli")
    for _ in range(2):
        _refused(accounts, "alice", WRONG)
    accounts.sign_in("alice", PASSWORD, None)
    for _ in range(2):
        _refused(accounts, "alice", WRONG)
    row = _row(database, "alice")
    assert row.failed_sign_ins == 2 and row.locked_until is None
    accounts.sign_in("alice", PASSWORD, None)


def test_a_wrong_totp_code_counts_as_a_failure(database: Database) -> None:
    accounts = _accounts(database, attempts=2)
    secret = accounts.create("tina", PASSWORD, "admin", totp=True, actor="cli").totp_secret
    assert secret is not None
    wrong_code = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    with pytest.raises(SignInRefused):
        accounts.sign_in("tina", PASSWORD, wrong_code)
    with pytest.raises(SignInRefused):
        accounts.sign_in("tina", PASSWORD, None)  # no code at all
    assert _row(database, "tina").locked_until is not None
    with pytest.raises(SignInRefused):  # the right password and code, while locked
        accounts.sign_in("tina", PASSWORD, pyotp.TOTP(secret).now())
    assert _row(database, "tina").totp_last_step is None  # and the code was not spent on it


@pytest.mark.parametrize("name", ["nobody", "not a valid name!", "alice"])
def test_every_refusal_costs_one_argon2_verification(database: Database, name: str) -> None:
    hasher = CountingHasher()
    accounts = _accounts(database, attempts=1, hasher=hasher)
    accounts.create("alice", PASSWORD, "admin", totp=False, actor="cli")
    _refused(accounts, "alice", WRONG)  # alice is locked now
    hasher.verified = 0
    _refused(accounts, name, PASSWORD)  # unknown, malformed, or locked with the right password
    assert hasher.verified == 1


def test_an_admin_unlocks_an_account(database: Database) -> None:
    accounts = _accounts(database, attempts=2)
    alice = accounts.create("alice", PASSWORD, "admin", totp=False, actor="cli").info
    for _ in range(2):
        _refused(accounts, "alice", WRONG)
    listed = next(a for a in accounts.list() if a.name == "alice")
    assert listed.locked_until is not None
    info = accounts.unlock(alice.id, actor="admin:bob")
    assert info.locked_until is None and info.failed_sign_ins == 0
    accounts.sign_in("alice", PASSWORD, None)
    assert [(a, d["was_locked"]) for a, _, d in _audit(database, "console.account.unlock")] == [("admin:bob", True)]
    accounts.unlock(alice.id, actor="admin:bob")  # not locked: nothing to do, nothing audited
    assert len(_audit(database, "console.account.unlock")) == 1
    with pytest.raises(AccountNotFound):
        accounts.unlock("adm_nope", actor="admin:bob")


def test_two_replicas_count_one_accounts_failures_together(database: Database) -> None:
    # Two services on one database, as two replicas are: ten failures at once make exactly one lock.
    replicas = [_accounts(database, attempts=10), _accounts(database, attempts=10)]
    replicas[0].create("alice", PASSWORD, "admin", totp=False, actor="cli")

    def guess(i: int) -> None:
        _refused(replicas[i % 2], "alice", f"{WRONG} {i}")

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(guess, range(10)))
    assert _row(database, "alice").locked_until is not None
    assert len(_audit(database, "console.account.lock")) == 1


# -- passwords ---------------------------------------------------------------------------------------------------


def _hash_and_sessions(database: Database, name: str) -> tuple[str, set[str]]:
    row = _row(database, name)
    with database.transaction() as s:
        sessions = set(s.scalars(select(AdminSessionRow.id).where(AdminSessionRow.account_id == row.id)))
    return row.password_hash, sessions


@pytest.mark.parametrize(("current", "new", "again", "error"), [
    (WRONG, NEW_PASSWORD, NEW_PASSWORD, PasswordWrong),
    (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", PasswordMismatch),
    (PASSWORD, "short", "short", AccountInvalid),
    (PASSWORD, "x" * 201, "x" * 201, AccountInvalid),
    (PASSWORD, PASSWORD, PASSWORD, AccountInvalid),
])
def test_a_refused_password_change_changes_nothing(database: Database, current: str, new: str, again: str,
                                                   error: type[Exception]) -> None:
    accounts = _accounts(database)
    alice = accounts.create("alice", PASSWORD, "admin", totp=False, actor="cli").info
    here, there = accounts.sign_in("alice", PASSWORD, None), accounts.sign_in("alice", PASSWORD, None)
    before = _hash_and_sessions(database, "alice")
    with pytest.raises(error):
        accounts.change_password(alice.id, current, new, again)
    assert _hash_and_sessions(database, "alice") == before
    assert accounts.session(here) is not None and accounts.session(there) is not None
    assert _audit(database, "console.password.change") == (
        [("admin:alice", "console.password.change.refused", {"reason": "current_password"})]
        if error is PasswordWrong else [])


def test_a_password_change_ends_every_other_session(database: Database) -> None:
    accounts = _accounts(database)
    alice = accounts.create("alice", PASSWORD, "admin", totp=False, actor="cli").info
    here, there = accounts.sign_in("alice", PASSWORD, None), accounts.sign_in("alice", PASSWORD, None)
    token = accounts.change_password(alice.id, PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
    assert accounts.session(here) is None and accounts.session(there) is None
    assert accounts.session(token) is not None
    _refused(accounts, "alice", PASSWORD)
    accounts.sign_in("alice", NEW_PASSWORD, None)
    audited = _audit(database, "console.password.change")
    assert audited == [("admin:alice", "console.password.change", {"sessions_ended": 1})]
    assert NEW_PASSWORD not in str(audited)


def test_an_operator_sets_a_password(database: Database) -> None:
    accounts = _accounts(database)
    alice = accounts.create("alice", PASSWORD, "admin", totp=False, actor="cli").info
    token = accounts.sign_in("alice", PASSWORD, None)
    with pytest.raises(AccountInvalid):
        accounts.set_password(alice.id, "short", actor="cli")
    assert accounts.session(token) is not None
    with pytest.raises(AccountNotFound):
        accounts.set_password("adm_nope", NEW_PASSWORD, actor="cli")
    accounts.set_password(alice.id, NEW_PASSWORD, actor="cli")
    assert accounts.session(token) is None
    _refused(accounts, "alice", PASSWORD)
    accounts.sign_in("alice", NEW_PASSWORD, None)
    assert _audit(database, "console.account.set_password") == [
        ("cli", "console.account.set_password", {"name": "alice", "sessions_ended": 1})]
