"""Per-account lockout and password changes over real HTTP on loopback: a locked account answers like a wrong
password (and like an unknown name), even to the right password; a good sign-in starts the count again; the lock
ends by itself or by an admin's button; a password change needs the current password, the new one twice and the
CSRF token, ends every other session, and each refusal changes nothing."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from gateway.store.models.base import utcnow
from gateway.store.models.console import AdminAccountRow, AdminSessionRow
from gateway.store.repositories.audit import AuditRepository
from tests.support.console import PASSWORD, ConsoleClient, make_account, start_console
from tests.support.gateway import GatewayUnderTest

WRONG = "not the password at all"
NEW_PASSWORD = "a brand new long password"
_ERROR = re.compile(r'<p class="flash error" role="alert" id="sign-in-error">([^<]*)</p>')


@pytest.fixture
def console_gateway(sqlite_url: str, keys_dir: Path) -> Iterator[GatewayUnderTest]:
    with start_console(sqlite_url, keys_dir, console_lockout_attempts=3) as gw:
        yield gw


@pytest.fixture
def clients(console_gateway: GatewayUnderTest) -> Iterator[list[ConsoleClient]]:
    made = [ConsoleClient(console_gateway.url) for _ in range(3)]
    yield made
    for client in made:
        client.close()


def _refusal(answer: requests.Response) -> tuple[int, str]:
    """What a sign-in refusal says: its status and its message (the rest of the page carries a fresh CSRF token)."""
    found = _ERROR.search(answer.text)
    return answer.status_code, found.group(1) if found else ""


def _account(gw: GatewayUnderTest, name: str) -> AdminAccountRow:
    with gw.services.db.transaction() as s:
        row = s.query(AdminAccountRow).filter_by(name=name).one()
        s.expunge(row)
        return row


def _lock(client: ConsoleClient, name: str, attempts: int = 3) -> list[tuple[int, str]]:
    return [_refusal(client.sign_in(name, password=WRONG)) for _ in range(attempts)]


def test_three_failures_lock_the_account_and_it_answers_like_a_wrong_password(
        console_gateway: GatewayUnderTest, clients: list[ConsoleClient]) -> None:
    make_account(console_gateway.services, "alice")
    guesser, owner, _ = clients
    wrong = _lock(guesser, "alice")
    assert wrong[0][0] == 401 and "CONSOLE_SIGN_IN_REFUSED" in wrong[0][1] and len(set(wrong)) == 1
    assert _account(console_gateway, "alice").locked_until is not None
    # The owner, elsewhere, with the right password: refused, in the same words as a wrong password or no account.
    locked = _refusal(owner.sign_in("alice"))
    unknown = _refusal(owner.sign_in("nobody-here"))
    assert locked == wrong[0] == unknown
    assert owner.get("/").status_code == 303
    with console_gateway.services.db.transaction() as s:
        locks = AuditRepository(s).list(action="console.account.lock")
        assert [(e.actor, e.details["name"]) for e in locks] == [("console", "alice")]
        assert PASSWORD not in str([e.details for e in AuditRepository(s).list()])


def test_a_good_sign_in_starts_the_count_again(console_gateway: GatewayUnderTest,
                                               clients: list[ConsoleClient]) -> None:
    make_account(console_gateway.services, "alice")
    guesser, owner, _ = clients
    _lock(guesser, "alice", attempts=2)
    assert owner.sign_in("alice").status_code == 303
    _lock(guesser, "alice", attempts=2)
    assert _account(console_gateway, "alice").locked_until is None
    assert guesser.sign_in("alice").status_code == 303


def test_an_admin_unlocks_an_account_with_the_button(console_gateway: GatewayUnderTest,
                                                     clients: list[ConsoleClient]) -> None:
    make_account(console_gateway.services, "alice")
    make_account(console_gateway.services, "bob")
    make_account(console_gateway.services, "sam", role="support")
    guesser, bob, sam = clients
    _lock(guesser, "alice")
    alice_id = _account(console_gateway, "alice").id
    assert bob.sign_in("bob").status_code == 303 and sam.sign_in("sam").status_code == 303
    row = bob.get("/admins").text.split('id="account-alice"', 1)[1].split("</tr>", 1)[0]
    assert "Unlock account alice" in row
    assert "Unlock account alice" not in sam.get("/admins").text  # a support account is offered no unlock
    refusals: list[tuple[ConsoleClient, dict[str, Any], int, str]] = [
        (sam, {"csrf_token": sam.csrf("/admins")}, 403, "CONSOLE_ROLE_FORBIDDEN"),
        (bob, {}, 400, "CONSOLE_CSRF_REFUSED"),
        (bob, {"csrf_token": "not-the-token"}, 400, "CONSOLE_CSRF_REFUSED"),
    ]
    for client, form, status, code in refusals:
        answer = client.post(f"/admins/{alice_id}/unlock", form)
        assert answer.status_code == status and code in answer.text
    assert _account(console_gateway, "alice").locked_until is not None  # none of them changed anything
    answer = bob.post(f"/admins/{alice_id}/unlock", {"csrf_token": bob.csrf("/admins")})
    assert answer.status_code == 303
    assert "Unlocked alice" in bob.get("/admins").text
    assert guesser.sign_in("alice").status_code == 303
    unknown = bob.post("/admins/adm_nope/unlock", {"csrf_token": bob.csrf("/admins")})
    assert unknown.status_code == 303 and "CONSOLE_ACCOUNT_NOT_FOUND" in bob.get("/admins").text
    with console_gateway.services.db.transaction() as s:
        assert [e.actor for e in AuditRepository(s).list(action="console.account.unlock")] == ["admin:bob"]


def test_the_lock_ends_by_itself(sqlite_url: str, keys_dir: Path) -> None:
    # No clock to move in a running server: a short lock, waited out. Long enough that the refusal right after it
    # is inside it on a loaded machine; the wait is for the instant the store recorded, not a guess.
    gw = start_console(sqlite_url, keys_dir, console_lockout_attempts=2, console_lockout_seconds=4)
    client = ConsoleClient(gw.url)
    try:
        make_account(gw.services, "alice")
        _lock(client, "alice", attempts=2)
        assert client.sign_in("alice").status_code == 401
        locked_until = _account(gw, "alice").locked_until
        assert locked_until is not None
        time.sleep(max(0.0, (locked_until - utcnow()).total_seconds()) + 0.2)
        assert client.sign_in("alice").status_code == 303
    finally:
        client.close()
        gw.close()


# -- changing one's password ----------------------------------------------------------------------------------


def _state(gw: GatewayUnderTest, name: str) -> tuple[str, int]:
    row = _account(gw, name)
    with gw.services.db.transaction() as s:
        return row.password_hash, s.query(AdminSessionRow).filter_by(account_id=row.id).count()


FRESH = "fresh"  # not a token: asks _change for the page's own CSRF token


def _change(client: ConsoleClient, current: str, new: str, again: str | None = None,
            csrf: str | None = FRESH) -> requests.Response:
    form = {"current_password": current, "new_password": new, "new_password_again": new if again is None else again}
    if csrf is not None:
        form["csrf_token"] = client.csrf("/password") if csrf == FRESH else csrf
    return client.post("/password", form)


@pytest.mark.parametrize(("current", "new", "again", "csrf", "status", "code"), [
    (WRONG, NEW_PASSWORD, None, FRESH, 403, "CONSOLE_PASSWORD_WRONG"),
    (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!", FRESH, 422, "CONSOLE_PASSWORD_MISMATCH"),
    (PASSWORD, "too short", None, FRESH, 422, "CONSOLE_ACCOUNT_INVALID"),
    (PASSWORD, PASSWORD, None, FRESH, 422, "CONSOLE_ACCOUNT_INVALID"),
    (PASSWORD, NEW_PASSWORD, None, None, 400, "CONSOLE_CSRF_REFUSED"),
    (PASSWORD, NEW_PASSWORD, None, "not-the-token", 400, "CONSOLE_CSRF_REFUSED"),
])
def test_a_refused_password_change_changes_nothing(
        console_gateway: GatewayUnderTest, clients: list[ConsoleClient], current: str, new: str, again: str | None,
        csrf: str | None, status: int, code: str) -> None:
    make_account(console_gateway.services, "alice")
    here, elsewhere, _ = clients
    assert here.sign_in("alice").status_code == 303 and elsewhere.sign_in("alice").status_code == 303
    before = _state(console_gateway, "alice")
    answer = _change(here, current, new, again, csrf)
    assert answer.status_code == status and code in answer.text
    assert _state(console_gateway, "alice") == before
    assert here.get("/").status_code == 200 and elsewhere.get("/").status_code == 200


def test_a_password_change_ends_every_other_session(console_gateway: GatewayUnderTest,
                                                    clients: list[ConsoleClient]) -> None:
    make_account(console_gateway.services, "sam", role="support")  # a read-only role changes its own password too
    here, elsewhere, later = clients
    assert here.sign_in("sam").status_code == 303 and elsewhere.sign_in("sam").status_code == 303
    before = here.cookie
    answer = _change(here, PASSWORD, NEW_PASSWORD)
    assert answer.status_code == 303 and answer.headers["Location"] == "/console/password"
    assert here.cookie != before  # this browser carries on in a new session
    assert "Your password is changed" in here.get("/password").text
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 303  # the other session ended
    assert later.sign_in("sam").status_code == 401
    assert later.sign_in("sam", password=NEW_PASSWORD).status_code == 303
    with console_gateway.services.db.transaction() as s:
        changes = AuditRepository(s).list(action="console.password.change")
        assert [(e.actor, e.details) for e in changes] == [("admin:sam", {"sessions_ended": 1})]


def test_a_password_change_needs_a_session(console_gateway: GatewayUnderTest, clients: list[ConsoleClient]) -> None:
    make_account(console_gateway.services, "alice")
    stranger = clients[0]
    before = _state(console_gateway, "alice")
    assert stranger.get("/password").status_code == 303
    answer = stranger.post("/password", {"csrf_token": stranger.csrf("/sign-in"), "current_password": PASSWORD,
                                         "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD})
    assert answer.status_code == 401 and "CONSOLE_SIGN_IN_REQUIRED" in answer.text
    assert _state(console_gateway, "alice") == before


def test_password_changes_share_the_sign_in_rate_limit(sqlite_url: str, keys_dir: Path) -> None:
    gw = start_console(sqlite_url, keys_dir, rate_limit_console_sign_in="3/minute")
    client = ConsoleClient(gw.url)
    try:
        make_account(gw.services, "alice")
        assert client.sign_in("alice").status_code == 303
        statuses = [_change(client, WRONG, NEW_PASSWORD).status_code for _ in range(3)]
        assert statuses == [403, 403, 429]
    finally:
        client.close()
        gw.close()

