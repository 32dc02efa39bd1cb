"""Admin accounts and sessions in the store, on SQLite and PostgreSQL: hashes not passwords, rotation at sign-in,
idle timeout and maximum age, disabling (and the last admin), and the migration."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from gateway.console.accounts import AdminAccounts
from gateway.console.errors import AccountExists, AccountInvalid, LastAdmin, SignInRefused
from gateway.crypto import Cipher
from gateway.store import Database
from gateway.store.models import Base
from gateway.store.models.base import utcnow
from gateway.store.models.console import AdminAccountRow, AdminSessionRow
from gateway.store.models.core import AuditEntryRow
from tests.support.gateway import TEST_ENCRYPTION_KEYS

PASSWORD = "a long enough password"


def _accounts(database: Database) -> AdminAccounts:
    return AdminAccounts(database, Cipher.from_spec(TEST_ENCRYPTION_KEYS), idle_timeout=dt.timedelta(minutes=30),
                         max_age=dt.timedelta(hours=12))


def test_the_migration_makes_the_tables_the_models_describe(database: Database) -> None:
    with database.transaction() as s:
        tables = set(inspect(s.connection()).get_table_names())
    assert {"admin_accounts", "admin_sessions"} <= tables
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diffs = [d for d in compare_metadata(context, Base.metadata) if "admin_" in repr(d)]
    assert diffs == []


def test_only_an_argon2_hash_is_kept_and_sign_in_rotates_the_session(database: Database) -> None:
    accounts = _accounts(database)
    made = accounts.create("alice", PASSWORD, "admin", totp=False, actor="cli")
    with database.transaction() as s:
        row = s.get(AdminAccountRow, made.info.id)
        assert row is not None and row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash
    first = accounts.sign_in("alice", PASSWORD, None)
    second = accounts.sign_in("alice", PASSWORD, None, previous_token=first)
    assert first != second
    assert accounts.session(first) is None  # the token from before the sign-in is gone
    signed_in = accounts.session(second)
    assert signed_in is not None and signed_in.actor == "admin:alice" and signed_in.can_act
    with database.transaction() as s:
        stored = s.scalars(select(AdminSessionRow.id)).all()
    assert second not in stored and len(stored) == 1  # only the token's digest


def test_idle_and_old_sessions_end(database: Database) -> None:
    accounts = _accounts(database)
    accounts.create("alice", PASSWORD, "support", totp=False, actor="cli")
    token = accounts.sign_in("alice", PASSWORD, None)
    now = utcnow()
    assert accounts.session(token, now=now + dt.timedelta(minutes=29)) is not None
    # Kept alive by use, a session still ends at its maximum age.
    for minutes in range(50, 12 * 60, 25):
        assert accounts.session(token, now=now + dt.timedelta(minutes=minutes)) is not None
    assert accounts.session(token, now=now + dt.timedelta(hours=12, minutes=1)) is None
    idle = accounts.sign_in("alice", PASSWORD, None)
    assert accounts.session(idle, now=utcnow() + dt.timedelta(minutes=31)) is None
    assert accounts.session(idle) is None  # and it was deleted


@pytest.mark.parametrize(("name", "password", "role"), [
    ("", PASSWORD, "admin"), ("has space", PASSWORD, "admin"), ("bob", "short", "admin"), ("bob", PASSWORD, "root"),
])
def test_bad_accounts_are_refused_and_nothing_is_stored(database: Database, name: str, password: str,
                                                        role: str) -> None:
    with pytest.raises(AccountInvalid):
        _accounts(database).create(name, password, role, totp=False, actor="cli")
    with database.transaction() as s:
        assert s.scalars(select(AdminAccountRow)).all() == []


def test_names_are_unique_and_the_last_admin_stays(database: Database) -> None:
    accounts = _accounts(database)
    alice = accounts.create("alice", PASSWORD, "admin", totp=False, actor="cli").info
    with pytest.raises(AccountExists):
        accounts.create("alice", PASSWORD, "support", totp=False, actor="cli")
    with pytest.raises(LastAdmin):
        accounts.disable(alice.id, actor="admin:alice")
    bob = accounts.create("bob", PASSWORD, "admin", totp=False, actor="admin:alice").info
    token = accounts.sign_in("bob", PASSWORD, None)
    accounts.disable(bob.id, actor="admin:alice")
    assert accounts.session(token) is None
    with pytest.raises(SignInRefused):
        accounts.sign_in("bob", PASSWORD, None)
    with database.transaction() as s:
        audited = [(e.actor, e.action) for e in s.scalars(select(AuditEntryRow).order_by(AuditEntryRow.id))]
    assert ("admin:alice", "console.account.disable") in audited and ("admin:bob", "console.sign_in") in audited


def test_the_totp_secret_is_encrypted(database: Database) -> None:
    made = _accounts(database).create("tina", PASSWORD, "admin", totp=True, actor="cli")
    assert made.totp_secret and made.totp_uri and made.totp_secret in made.totp_uri
    with database.transaction() as s:
        row = s.get(AdminAccountRow, made.info.id)
        assert row is not None and row.totp_secret_encrypted and made.totp_secret not in row.totp_secret_encrypted
