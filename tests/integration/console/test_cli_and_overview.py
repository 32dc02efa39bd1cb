"""``gateway admins`` as a process (create, list, disable, unlock, set-password), and the overview's numbers from
the store (both engines)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.console.accounts import AdminAccounts, Lockout
from gateway.console.errors import SignInRefused
from gateway.console.overview import overview
from gateway.crypto import Cipher
from gateway.ops.recent import RecentTally
from gateway.store import Database
from gateway.store.models.base import new_id, utcnow
from gateway.store.models.clever import CleverDistrictRow
from gateway.store.models.core import LaunchRow
from gateway.store.models.writeback import OutboxRow
from tests.support.gateway import TEST_ENCRYPTION_KEYS

PASSWORD = "a long enough password"
NEW_PASSWORD = "a different long password"


def _gateway(database_url: str, keys_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(GATEWAY_ENV="test", GATEWAY_DATABASE_URL=database_url, GATEWAY_KEYS_DIR=str(keys_dir),
               GATEWAY_ENCRYPTION_KEYS=TEST_ENCRYPTION_KEYS, GATEWAY_LOG_LEVEL="WARNING")
    return subprocess.run([sys.executable, "-m", "gateway", *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=60, check=False)


def test_admins_create_list_disable(sqlite_url: str, keys_dir: Path) -> None:
    made = _gateway(sqlite_url, keys_dir, "admins", "create", "alice", "--totp", "--password-stdin",
                    stdin="a long enough password\n")
    assert made.returncode == 0, made.stderr
    assert "created admin account alice" in made.stdout and "otpauth://totp/" in made.stdout
    support = _gateway(sqlite_url, keys_dir, "admins", "create", "sam", "--role", "support", "--password-stdin",
                       stdin="another long password\n")
    assert support.returncode == 0, support.stderr
    short = _gateway(sqlite_url, keys_dir, "admins", "create", "bob", "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "CONSOLE_ACCOUNT_INVALID" in short.stderr
    listed = _gateway(sqlite_url, keys_dir, "admins", "list")
    assert "name=alice" in listed.stdout and "role=support" in listed.stdout and "name=bob" not in listed.stdout
    last = _gateway(sqlite_url, keys_dir, "admins", "disable", "alice")
    assert last.returncode == 1 and "CONSOLE_LAST_ADMIN" in last.stderr
    assert _gateway(sqlite_url, keys_dir, "admins", "disable", "sam").returncode == 0


def _accounts(database_url: str) -> AdminAccounts:
    # The same database the CLI process uses; one failure locks (the CLI's own lockout setting is not in play).
    return AdminAccounts(Database(database_url), Cipher.from_spec(TEST_ENCRYPTION_KEYS),
                         idle_timeout=dt.timedelta(minutes=30), max_age=dt.timedelta(hours=12),
                         lockout=Lockout(1, dt.timedelta(minutes=15)))


def test_admins_unlock(sqlite_url: str, keys_dir: Path) -> None:
    assert _gateway(sqlite_url, keys_dir, "admins", "create", "alice", "--password-stdin",
                    stdin=f"{PASSWORD}\n").returncode == 0
    accounts = _accounts(sqlite_url)
    with pytest.raises(SignInRefused):
        accounts.sign_in("alice", "not the password at all", None)
    with pytest.raises(SignInRefused):
        accounts.sign_in("alice", PASSWORD, None)  # locked
    assert "locked_until=20" in _gateway(sqlite_url, keys_dir, "admins", "list").stdout
    unknown = _gateway(sqlite_url, keys_dir, "admins", "unlock", "nobody")
    assert unknown.returncode == 1 and "CONSOLE_ACCOUNT_NOT_FOUND" in unknown.stderr
    unlocked = _gateway(sqlite_url, keys_dir, "admins", "unlock", "alice")
    assert unlocked.returncode == 0 and "unlocked alice" in unlocked.stdout
    assert accounts.sign_in("alice", PASSWORD, None)


def test_admins_set_password_reads_it_from_stdin_only(sqlite_url: str, keys_dir: Path) -> None:
    assert _gateway(sqlite_url, keys_dir, "admins", "create", "alice", "--password-stdin",
                    stdin=f"{PASSWORD}\n").returncode == 0
    accounts = _accounts(sqlite_url)
    token = accounts.sign_in("alice", PASSWORD, None)
    as_argument = _gateway(sqlite_url, keys_dir, "admins", "set-password", "alice", NEW_PASSWORD)
    assert as_argument.returncode == 2 and "unrecognized arguments" in as_argument.stderr  # never on the command line
    short = _gateway(sqlite_url, keys_dir, "admins", "set-password", "alice", "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "CONSOLE_ACCOUNT_INVALID" in short.stderr
    unknown = _gateway(sqlite_url, keys_dir, "admins", "set-password", "nobody", "--password-stdin",
                       stdin=f"{NEW_PASSWORD}\n")
    assert unknown.returncode == 1 and "CONSOLE_ACCOUNT_NOT_FOUND" in unknown.stderr
    assert accounts.session(token) is not None  # the refusals changed nothing
    done = _gateway(sqlite_url, keys_dir, "admins", "set-password", "alice", "--password-stdin",
                    stdin=f"{NEW_PASSWORD}\n")
    assert done.returncode == 0 and "set the password of alice" in done.stdout
    assert NEW_PASSWORD not in done.stdout + done.stderr
    assert accounts.session(token) is None  # its sessions ended
    assert accounts.sign_in("alice", NEW_PASSWORD, None)


def test_the_overview_counts_by_window(database: Database) -> None:
    now = utcnow()
    with database.transaction() as s:
        for kind, age in (("lti", 10), ("lti", 120), ("clever", 600), ("lti", 60 * 30)):
            at = now - dt.timedelta(minutes=age)
            s.add(LaunchRow(id=new_id("lch"), kind=kind, record_encrypted="-", created_at=at,
                            expires_at=now + dt.timedelta(days=1)))
        for state, age in (("dead", 5), ("delivered", 300), ("queued", 60 * 30)):
            at = now - dt.timedelta(minutes=age)
            s.add(OutboxRow(id=new_id("dlv"), kind="grade", backend="ags", ordering_key="k", payload_encrypted="-",
                            state=state, attempts=0, max_attempts=3, next_attempt_at=at, created_at=at, updated_at=at))
        s.add(CleverDistrictRow(id="d-1", status="connected", sync_status="succeeded", sync_requested_full=False,
                                synced_at=now - dt.timedelta(minutes=20)))
    clock = [now.timestamp() - 3 * 3600]
    refusals = RecentTally(clock=lambda: clock[0])
    refusals.add("LTI_NONCE_REUSED")  # three hours ago: the day's, not the hour's
    clock[0] = now.timestamp() - 120
    refusals.add("LTI_NONCE_REUSED", 2)
    clock[0] = now.timestamp()
    shown = overview(database, refusals.since, now=now)
    hour, day = shown.windows
    assert dict(hour.launches) == {"lti": 1} and dict(day.launches) == {"lti": 2, "clever": 1}
    assert dict(hour.deliveries) == {"dead": 1} and dict(day.deliveries) == {"dead": 1, "delivered": 1}
    assert dict(shown.deliveries_now) == {"dead": 1, "delivered": 1, "queued": 1}
    assert dict(shown.districts) == {"connected/succeeded": 1} and dict(hour.syncs) == {"succeeded": 1}
    assert dict(hour.refusals) == {"LTI_NONCE_REUSED": 2} and dict(day.refusals) == {"LTI_NONCE_REUSED": 3}
    assert shown.side_by_side("launches") == [("clever", [0, 1]), ("lti", [1, 2])]
