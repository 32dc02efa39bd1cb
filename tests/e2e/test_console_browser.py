"""The operator console in real Chromium against a live gateway: sign in (with TOTP), then each operator task the
issue names, each checked in the store and the audit log; CSRF and role refusals; every page saved as a screenshot.

One browser and one signed-in page for the module (sign-in is tested once, not per test); each test arranges its
own work. Screenshots go to ``$GATEWAY_CONSOLE_SCREENSHOTS`` or ``var/console-screenshots/`` (README "Operator
console").
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from gateway.store.models.identity import IdentityConflictRow
from gateway.store.models.lti import LtiDeploymentRow
from gateway.store.repositories.audit import AuditRepository
from tests.support.browser import chromium
from tests.support.console import PASSWORD, Arranged, arrange, make_account, start_console, totp_now
from tests.support.databases import DatabaseFactory
from tests.support.gateway import GatewayUnderTest
from tests.support.outbox import state_of

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("console_browser")]

REPO = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("GATEWAY_CONSOLE_SCREENSHOTS", REPO / "var" / "console-screenshots"))


@dataclass
class Console:
    gateway: GatewayUnderTest
    browser: Browser
    context: BrowserContext
    page: Page

    def url(self, path: str) -> str:
        return f"{self.gateway.url}/console{path}"

    def open(self, path: str, shot: str | None = None) -> Page:
        self.page.goto(self.url(path))
        if shot:
            self.shot(shot)
        return self.page

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def audited(self, action: str) -> list[str]:
        with self.gateway.services.db.transaction() as s:
            return [e.actor for e in AuditRepository(s).list(action=action)]

    @contextmanager
    def another_person(self, name: str) -> Iterator[tuple[BrowserContext, Page]]:
        """A second person signed in, in a browser context of their own (the module's page stays alice's)."""
        context = self.browser.new_context(viewport={"width": 1280, "height": 900})
        try:
            page = context.new_page()
            page.goto(self.url("/sign-in"))
            sign_in(page, name)
            yield context, page
        finally:
            context.close()


def sign_in(page: Page, name: str, code: str | None = None) -> None:
    """Fill and send the sign-in form the page shows; signed in once the header names the person."""
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    if code is not None:
        page.get_by_label("Six-digit code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#who")).to_have_text(name)


@pytest.fixture(scope="module")
def console(db_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    keys = tmp_path_factory.mktemp("keys")
    gw = start_console(db_factory.sqlite_url(), keys)
    secret = make_account(gw.services, "alice", totp=True)
    make_account(gw.services, "sam", role="support")
    assert secret is not None
    try:
        with chromium() as browser:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.goto(f"{gw.url}/console/")  # signed out: sent to the sign-in page
            expect(page.get_by_label("Name")).to_be_visible()
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "01-sign-in.png"), full_page=True)
            sign_in(page, "alice", totp_now(secret))
            yield Console(gw, browser, context, page)
            context.close()
    finally:
        gw.close()


@pytest.fixture
def work(console: Console) -> Arranged:
    return arrange(console.gateway.services)


def test_sign_in_lands_on_the_overview(console: Console, work: Arranged) -> None:
    page = console.open("/", "02-overview")
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(page.locator("#deliveries-now")).to_contain_text("dead")
    assert "admin:alice" in console.audited("console.sign_in")


def test_the_pages_are_keyboard_and_screen_reader_friendly(console: Console) -> None:
    for path in ("/", "/registrations", "/deliveries", "/identity", "/api-keys", "/admins", "/audit", "/password"):
        page = console.open(path)
        unlabelled = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select')]
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.name)""")
        assert unlabelled == [], path
        assert page.locator("main#main").count() == 1 and page.locator("nav[aria-label=Console]").count() == 1
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to content"


def test_approve_a_pending_deployment(console: Console, work: Arranged) -> None:
    page = console.open("/deployments?status=pending", "03-deployments-pending")
    page.get_by_role("button", name=f"Approve deployment {work.deployment_id}").click()
    expect(page.get_by_role("status")).to_contain_text(f"Deployment {work.deployment_id} is active")
    with console.gateway.services.db.transaction() as s:
        row = s.get(LtiDeploymentRow, work.deployment_ref)
        assert row is not None and row.status == "active"
    assert "admin:alice" in console.audited("lti.deployment.status")


def test_registrations_and_the_configuration_to_paste(console: Console, work: Arranged) -> None:
    page = console.open("/registrations", "04-registrations")
    page.get_by_role("link", name="District Canvas").first.click()
    expect(page.get_by_label("Canvas JSON")).to_contain_text("/lti/launch")
    console.shot("05-registration")
    page.get_by_role("button", name="Disable this registration").click()
    expect(page.locator("#registration-status")).to_have_text("disabled")
    page.get_by_role("button", name="Enable this registration").click()
    expect(page.locator("#registration-status")).to_have_text("active")
    assert console.audited("lti.registration.status")[:2] == ["admin:alice", "admin:alice"]


def test_rotate_the_signing_key(console: Console) -> None:
    page = console.open("/keys")
    page.get_by_role("button", name="Rotate: publish the next key").click()
    expect(page.get_by_role("status")).to_contain_text("Published next key")
    statuses = [k["status"] for k in console.gateway.services.keyring.describe()]
    assert statuses.count("next") == 1
    console.shot("06-keys")
    assert "admin:alice" in console.audited("keys.add")


def test_replay_a_dead_delivery(console: Console, work: Arranged) -> None:
    page = console.open("/deliveries?state=dead", "07-deliveries-dead")
    page.get_by_role("link", name=work.dead_delivery).click()
    expect(page.locator("#delivery-state")).to_have_text("dead")
    console.shot("08-delivery")
    page.get_by_role("button", name="Replay this delivery").click()
    expect(page.locator("#delivery-state")).to_have_text("queued")
    assert state_of(console.gateway.services, work.dead_delivery) == "queued"
    assert "admin:alice" in console.audited("delivery.replay")


def test_resolve_an_identity_conflict(console: Console, work: Arranged) -> None:
    page = console.open("/identity", "09-identity")
    row = page.locator(f"#conflict-{work.conflict_id}")
    row.get_by_label("Reason").fill("checked with the school: neither candidate")
    row.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("status")).to_contain_text(f"Conflict {work.conflict_id} is resolved")
    with console.gateway.services.db.transaction() as s:
        conflict = s.get(IdentityConflictRow, work.conflict_id)
        assert conflict is not None and conflict.status == "resolved" and conflict.resolved_by == "admin:alice"


def test_create_and_revoke_an_api_key(console: Console) -> None:
    page = console.open("/api-keys")
    page.get_by_label("Name").fill("district reporting")
    page.get_by_label("writeback").check()
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("#new-secret").inner_text().strip()
    console.shot("10-api-key-created")
    api_keys = console.gateway.services.api_keys
    made = api_keys.authenticate(secret)
    assert made is not None and made.scopes == frozenset({"writeback"})
    page = console.open("/api-keys")
    assert secret not in page.content()  # shown once
    page.get_by_role("button", name="Revoke key district reporting").click()
    expect(page.get_by_role("status")).to_contain_text("Revoked API key district reporting")
    assert api_keys.authenticate(secret) is None
    console.shot("11-api-keys")
    assert console.audited("api_key.revoke") == ["admin:alice"]


def test_the_remaining_pages(console: Console, work: Arranged) -> None:
    console.open("/districts", "12-districts")
    console.open("/admins", "13-admins")
    page = console.open("/audit?actor=admin:alice", "14-audit")
    expect(page.locator("#audit")).to_contain_text("console.sign_in")


def test_a_post_without_or_with_a_wrong_csrf_token_is_refused(console: Console) -> None:
    before = console.gateway.services.keyring.describe()
    for form in ({}, {"csrf_token": "not-the-token"}):
        answer = console.context.request.post(console.url("/keys/rotate"), form=form, max_redirects=0)
        assert answer.status == 400 and "CONSOLE_CSRF_REFUSED" in answer.text()
    assert console.gateway.services.keyring.describe() == before


def test_a_support_account_sees_no_actions_and_is_refused_one(console: Console, work: Arranged) -> None:
    with console.another_person("sam") as (context, page):
        page.goto(console.url("/deployments?status=pending"))
        expect(page.get_by_role("button", name=f"Approve deployment {work.deployment_id}")).to_have_count(0)
        page.screenshot(path=str(SHOTS / "15-support-deployments.png"), full_page=True)
        token = page.locator("input[name=csrf_token]").first.get_attribute("value")
        answer = context.request.post(console.url(f"/deployments/{work.deployment_ref}/approve"),
                                      form={"csrf_token": token or ""}, max_redirects=0)
        assert answer.status == 403 and "CONSOLE_ROLE_FORBIDDEN" in answer.text()
    with console.gateway.services.db.transaction() as s:
        row = s.get(LtiDeploymentRow, work.deployment_ref)
        assert row is not None and row.status == "pending"


def test_change_a_password(console: Console) -> None:
    # Its own account and browser: the module's signed-in page keeps alice's password and session.
    make_account(console.gateway.services, "pia")
    with console.another_person("pia") as (_, page):
        page.get_by_role("link", name="Change password").click()
        page.get_by_label("Current password").fill("not the password at all")
        page.get_by_label("New password (12 to 200 characters)").fill("a brand new long password")
        page.get_by_label("New password again").fill("a brand new long password")
        page.get_by_role("button", name="Change password").click()
        expect(page.locator("#password-error")).to_contain_text("CONSOLE_PASSWORD_WRONG")
        page.get_by_label("Current password").fill(PASSWORD)
        page.get_by_label("New password (12 to 200 characters)").fill("a brand new long password")
        page.get_by_label("New password again").fill("a brand new long password")
        page.get_by_role("button", name="Change password").click()
        expect(page.get_by_role("status")).to_contain_text("Your password is changed")
        page.screenshot(path=str(SHOTS / "16-password.png"), full_page=True)
        expect(page.locator("#who")).to_have_text("pia")  # still signed in, in a new session
    assert console.audited("console.password.change") == ["admin:pia"]
