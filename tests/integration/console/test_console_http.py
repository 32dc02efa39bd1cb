"""The console over real HTTP on loopback: off by default, CSRF and role refusals that change nothing, the
sign-in rate limit, TOTP, and the cookie's attributes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from gateway.store.models.clever import CleverDistrictRow
from gateway.store.repositories.api_keys import ApiKeyRepository
from gateway.store.repositories.audit import AuditRepository
from tests.support.console import (
    PASSWORD,
    ConsoleClient,
    arrange,
    console_of,
    make_account,
    start_console,
    totp_now,
)
from tests.support.gateway import GatewayUnderTest


@pytest.fixture
def console_gateway(sqlite_url: str, keys_dir: Path) -> Iterator[GatewayUnderTest]:
    with start_console(sqlite_url, keys_dir) as gw:
        yield gw


@pytest.fixture
def client(console_gateway: GatewayUnderTest) -> Iterator[ConsoleClient]:
    made = ConsoleClient(console_gateway.url)
    yield made
    made.close()


def _key_count(gw: GatewayUnderTest) -> int:
    with gw.services.db.transaction() as s:
        return len(ApiKeyRepository(s).list())


@pytest.mark.parametrize("path", ["/console/", "/console/sign-in", "/console/admins"])
def test_the_console_is_off_by_default(gateway: GatewayUnderTest, path: str) -> None:
    client = ConsoleClient(gateway.url, prefix="")
    assert client.get(path).status_code == 404
    assert client.post(path).status_code in (404, 405)
    client.close()


def test_the_console_answers_under_its_own_prefix(sqlite_url: str, keys_dir: Path) -> None:
    gw = start_console(sqlite_url, keys_dir, console_path="/ops/console")
    try:
        make_account(gw.services, "olga")
        client = ConsoleClient(gw.url, prefix="/ops/console")
        assert client.sign_in("olga").status_code == 303
        assert client.get("/").status_code == 200
        assert ConsoleClient(gw.url).get("/").status_code == 404  # /console is not it
    finally:
        gw.close()


def test_pages_need_a_session_and_are_never_framed(client: ConsoleClient) -> None:
    answer = client.get("/")
    assert answer.status_code == 303 and "/console/sign-in" in answer.headers["Location"]
    page = client.get("/sign-in")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"


def test_the_cookie_is_secure_httponly_lax_and_rotates_at_sign_in(console_gateway: GatewayUnderTest,
                                                                   client: ConsoleClient) -> None:
    make_account(console_gateway.services, "alice")
    client.get("/sign-in")
    before = client.cookie
    answer = client.sign_in("alice")
    assert answer.status_code == 303
    set_cookie = answer.headers["Set-Cookie"]
    for attribute in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/console"):
        assert attribute in set_cookie
    assert client.cookie != before
    assert client.get("/").status_code == 200
    # Sign-out ends the server-side session: the old cookie is worth nothing.
    old = client.cookie
    client.post("/sign-out", {"csrf_token": client.csrf("/")})
    client.cookie = old
    assert client.get("/").status_code == 303


@pytest.mark.parametrize("token", [None, "wrong-token", "IjAwMDAi.Zz.Zz"])
def test_a_form_without_the_right_csrf_token_is_refused_and_changes_nothing(
        console_gateway: GatewayUnderTest, client: ConsoleClient, token: str | None) -> None:
    make_account(console_gateway.services, "alice")
    assert client.sign_in("alice").status_code == 303
    form = {"name": "sneaky", "scopes": ["admin"]} | ({"csrf_token": token} if token else {})
    answer = client.post("/api-keys", form)
    assert answer.status_code == 400 and "CONSOLE_CSRF_REFUSED" in answer.text
    assert _key_count(console_gateway) == 0


def test_a_sign_in_without_csrf_is_refused(console_gateway: GatewayUnderTest, client: ConsoleClient) -> None:
    make_account(console_gateway.services, "alice")
    answer = client.post("/sign-in", {"name": "alice", "password": "correct horse battery staple"})
    assert answer.status_code == 400 and "CONSOLE_CSRF_REFUSED" in answer.text


def test_a_support_account_reads_but_cannot_act(console_gateway: GatewayUnderTest, client: ConsoleClient) -> None:
    make_account(console_gateway.services, "sam", role="support")
    assert client.sign_in("sam").status_code == 303
    for path in ("/", "/registrations", "/deployments", "/keys", "/deliveries", "/identity", "/districts",
                 "/api-keys", "/admins", "/audit"):
        assert client.get(path).status_code == 200, path
    answer = client.post("/api-keys", {"csrf_token": client.csrf("/api-keys"), "name": "x", "scopes": ["admin"]})
    assert answer.status_code == 403 and "CONSOLE_ROLE_FORBIDDEN" in answer.text
    assert client.post("/keys/rotate", {"csrf_token": client.csrf("/")}).status_code == 403
    assert _key_count(console_gateway) == 0
    assert "Create key" not in client.get("/api-keys").text  # no form offered for what the role cannot do


def test_a_wrong_password_is_refused_and_audited(console_gateway: GatewayUnderTest, client: ConsoleClient) -> None:
    make_account(console_gateway.services, "alice")
    answer = client.sign_in("alice", password="not the password at all")
    assert answer.status_code == 401 and "CONSOLE_SIGN_IN_REFUSED" in answer.text
    assert client.get("/").status_code == 303
    with console_gateway.services.db.transaction() as s:
        actions = [e.action for e in AuditRepository(s).list(action="console.sign_in.refused")]
    assert actions == ["console.sign_in.refused"]


def test_sign_in_attempts_are_rate_limited(sqlite_url: str, keys_dir: Path) -> None:
    gw = start_console(sqlite_url, keys_dir, rate_limit_console_sign_in="3/minute")
    client = ConsoleClient(gw.url)
    try:
        make_account(gw.services, "alice")
        statuses = [client.sign_in("alice", password="wrong password here").status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]
        # Even the right password waits now.
        assert client.sign_in("alice").status_code == 429
    finally:
        client.close()
        gw.close()


def test_totp_is_required_when_the_account_has_it(console_gateway: GatewayUnderTest, client: ConsoleClient) -> None:
    secret = make_account(console_gateway.services, "tina", totp=True)
    assert secret is not None
    assert client.sign_in("tina").status_code == 401
    assert client.sign_in("tina", code="000000" if totp_now(secret) != "000000" else "111111").status_code == 401
    code = totp_now(secret)
    assert client.sign_in("tina", code=code).status_code == 303
    assert client.get("/").status_code == 200
    # A code is good once: seen over a shoulder, it signs no one else in.
    other = ConsoleClient(console_gateway.url)
    assert other.sign_in("tina", code=code).status_code == 401
    other.close()


def test_an_api_key_secret_is_shown_once(console_gateway: GatewayUnderTest, client: ConsoleClient) -> None:
    make_account(console_gateway.services, "alice")
    client.sign_in("alice")
    made = client.post("/api-keys", {"csrf_token": client.csrf("/api-keys"), "name": "vendor", "scopes": ["launches"]})
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    secret = made.text.split('id="new-secret">', 1)[1].split("<", 1)[0]
    assert secret.startswith("gw_")
    assert console_gateway.services.api_keys.authenticate(secret) is not None
    assert secret not in client.get("/api-keys").text
    with console_gateway.services.db.transaction() as s:
        entry = AuditRepository(s).list(action="api_key.create")[0]
    assert entry.actor == "admin:alice"




def _signed_in_admin(gw: GatewayUnderTest, client: ConsoleClient) -> None:
    make_account(gw.services, "alice")
    assert client.sign_in("alice").status_code == 303


def test_deliveries_filter_by_assignment_and_refuse_an_unknown_context(console_gateway: GatewayUnderTest,
                                                                       client: ConsoleClient) -> None:
    _signed_in_admin(console_gateway, client)
    first, second = arrange(console_gateway.services), arrange(console_gateway.services)
    shown = client.get("/deliveries", params={"assignment": first.assignment_id}).text
    assert first.dead_delivery in shown and second.dead_delivery not in shown
    everything = client.get("/deliveries", params={"state": "dead"}).text
    assert first.dead_delivery in everything and second.dead_delivery in everything
    unknown = client.get("/deliveries", params={"context": "ctx_nope"})
    assert unknown.status_code == 422 and "CONTEXT_NOT_FOUND" in unknown.text


def test_add_a_registration_from_a_preset(console_gateway: GatewayUnderTest, client: ConsoleClient) -> None:
    _signed_in_admin(console_gateway, client)
    form = {"csrf_token": client.csrf("/registrations"), "preset": "canvas", "client_id": "10000000000777",
            "name": "North District Canvas", "deployment_ids": "1:abc, 2:def"}
    assert client.post("/registrations", form).status_code == 303
    listed = client.get("/registrations").text
    assert "North District Canvas" in listed and "https://canvas.instructure.com" in listed
    with console_gateway.services.db.transaction() as s:
        assert [e.actor for e in AuditRepository(s).list(action="lti.registration.add")] == ["admin:alice"]


@pytest.mark.parametrize("form", [
    {"preset": "canvas", "client_id": ""},  # no client id
    {"preset": "no-such-lms", "client_id": "1"},
    {"preset": "", "client_id": "1", "issuer": "https://lms.example"},  # no preset and missing URLs
])
def test_a_registration_the_service_refuses_shows_its_code_and_stores_nothing(
        console_gateway: GatewayUnderTest, client: ConsoleClient, form: dict[str, str]) -> None:
    _signed_in_admin(console_gateway, client)
    answer = client.post("/registrations", {"csrf_token": client.csrf("/registrations"), **form})
    assert answer.status_code == 303
    assert "VALIDATION_FAILED" in client.get("/registrations").text  # the flash, on the page the form came from
    with console_gateway.services.db.transaction() as s:
        assert AuditRepository(s).list(action="lti.registration.add") == []


def test_sync_a_district_now(console_gateway: GatewayUnderTest, client: ConsoleClient) -> None:
    _signed_in_admin(console_gateway, client)
    with console_gateway.services.db.transaction() as s:
        s.add(CleverDistrictRow(id="d-77", name="Riverside USD", status="connected", sync_status="succeeded",
                                sync_requested_full=False))
    assert "Riverside USD" in client.get("/districts").text
    answer = client.post("/districts/d-77/sync", {"csrf_token": client.csrf("/districts"), "full": "1"})
    assert answer.status_code == 303
    with console_gateway.services.db.transaction() as s:
        row = s.get(CleverDistrictRow, "d-77")
        assert row is not None and row.sync_status == "queued" and row.sync_requested_full
        assert [e.actor for e in AuditRepository(s).list(action="clever.sync.request")] == ["admin:alice"]
    unknown = client.post("/districts/d-none/sync", {"csrf_token": client.csrf("/districts")})
    assert unknown.status_code == 303 and "CLEVER_DISTRICT_NOT_FOUND" in client.get("/districts").text


def test_an_admin_makes_and_disables_an_account_in_the_console(console_gateway: GatewayUnderTest,
                                                               client: ConsoleClient) -> None:
    _signed_in_admin(console_gateway, client)
    form = {"csrf_token": client.csrf("/admins"), "name": "sam", "password": "a long enough password",
            "role": "support", "totp": "1"}
    made = client.post("/admins", form)
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    secret = made.text.split('id="totp-secret">', 1)[1].split("<", 1)[0]
    assert len(secret) >= 16 and secret not in client.get("/admins").text  # shown once
    refused = client.post("/admins", {**form, "csrf_token": client.csrf("/admins"), "password": "short"})
    assert refused.status_code == 303 and "CONSOLE_ACCOUNT_INVALID" in client.get("/admins").text
    sam = ConsoleClient(console_gateway.url)
    assert sam.sign_in("sam", "a long enough password", totp_now(secret)).status_code == 303
    account = next(a for a in console_of(console_gateway.services).accounts.list() if a.name == "sam")
    assert client.post(f"/admins/{account.id}/disable", {"csrf_token": client.csrf("/admins")}).status_code == 303
    assert sam.get("/").status_code == 303  # their session ended with the account
    sam.close()
    with console_gateway.services.db.transaction() as s:
        assert [e.actor for e in AuditRepository(s).list(action="console.account.create")] == ["admin:alice", "test"]


def test_the_overview_counts_a_refused_launch_in_its_windows(console_gateway: GatewayUnderTest,
                                                             client: ConsoleClient) -> None:
    make_account(console_gateway.services, "ravi")
    refused = requests.post(console_gateway.url + "/lti/launch", data={"id_token": "not-a-jwt"},
                            headers={"Accept": "application/problem+json"}, timeout=10)
    assert refused.status_code == 400
    code = refused.json()["code"]
    assert client.sign_in("ravi").status_code == 303
    table = client.get("/").text.split('id="refusals"', 1)[1].split("</table>", 1)[0]
    assert f'<th scope="row">{code}</th><td>1</td><td>1</td>' in table  # last hour and last day


@pytest.mark.parametrize(("asked", "lands"), [
    ("/console/keys", "/console/keys"),
    ("//evil.example/console/", "/console/"),
    ("https://evil.example/console/", "/console/"),
    ("/console/\\evil.example", "/console/"),
    ("/elsewhere", "/console/"),
])
def test_sign_in_sends_the_browser_only_to_a_console_page(console_gateway: GatewayUnderTest, client: ConsoleClient,
                                                          asked: str, lands: str) -> None:
    make_account(console_gateway.services, "nina")
    token = client.csrf("/sign-in")
    answer = client.post("/sign-in", {"csrf_token": token, "name": "nina", "password": PASSWORD, "code": "",
                                      "next": asked})
    assert answer.status_code == 303 and answer.headers["Location"] == lands
