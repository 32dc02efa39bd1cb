"""Real Chromium walks every flow of the dev Clever sandbox page (``/sandbox/clever/``) to its end.

The gateway runs in dev mode, Clever pointed at the simulated Clever it mounts (as under ``make run``). Sign-ins end
on a vendor app that redeems the code through the vendor API and greets the person, so each flow is checked to the
launch record the vendor receives; Secure Sync ends on the page of the district the gateway synced.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from html import escape
from typing import Any

import pytest
import requests
from flask import Flask, request
from playwright.sync_api import Browser, Page

from sandbox.clever.dev import MOUNT
from tests.support.browser import chromium
from tests.support.databases import DatabaseFactory
from tests.support.gateway import GatewayUnderTest
from tests.support.live import LiveServer
from tests.support.lti_sandbox import start_dev_gateway

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group(__name__)]


@dataclass
class DevWorld:
    gateway: GatewayUnderTest
    browser: Browser


def _vendor_app(box: dict[str, Any]) -> Flask:
    """The vendor's launch URL: redeems the code from its back end and shows who arrived."""
    app = Flask("vendor")

    @app.get("/launch")
    def landing() -> str:
        gateway: GatewayUnderTest = box["gateway"]
        answer = requests.post(f"{gateway.url}/api/v1/launches/redeem", json={"code": request.args["code"]},
                               headers={"Authorization": f"Bearer {box['key']}"}, timeout=10)
        record = answer.json()
        name = record["name"]
        return (f'<p id="who">{escape(name["first"] or "")} {escape(name["last"] or "")}</p>'
                f'<p id="kind">{escape(record["kind"])}</p><p id="integration">{escape(record["integration"])}</p>'
                f'<p id="authorized-by">{escape(record["authorized_by"])}</p>')

    return app


@pytest.fixture(scope="module")
def world(db_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevWorld]:
    keys = tmp_path_factory.mktemp("clever-sandbox-keys")
    box: dict[str, Any] = {}
    vendor = LiveServer(_vendor_app(box)).start()
    gateway = start_dev_gateway(db_factory.sqlite_url(), keys, vendor_launch_url=vendor.url + "/launch")
    try:
        box["gateway"], box["key"] = gateway, gateway.api_key("launches")
        with chromium() as browser:
            yield DevWorld(gateway, browser)
    finally:
        gateway.close()
        vendor.stop()
    gateway.contract.assert_clean()


@pytest.fixture
def page(world: DevWorld) -> Iterator[Page]:
    context = world.browser.new_context()  # a fresh browser: nobody signed in to Clever yet
    try:
        yield context.new_page()
    finally:
        context.close()


def _open_sandbox(world: DevWorld, page: Page) -> None:
    page.goto(world.gateway.url + "/sandbox/clever/")
    assert page.title() == "Clever sandbox"


def test_library_install_arrives_as_the_library_teacher(world: DevWorld, page: Page) -> None:
    _open_sandbox(world, page)
    page.click("#try-library")
    page.wait_for_selector("#who")
    assert page.inner_text("#who") == "Lee Library"
    assert page.inner_text("#integration") == "library" and page.inner_text("#authorized-by") == "teacher"


def test_instant_login_arrives_as_the_student(world: DevWorld, page: Page) -> None:
    _open_sandbox(world, page)
    page.click("#try-instant-login")
    page.wait_for_selector("#who")
    assert page.inner_text("#who") == "Sam Student"
    assert page.inner_text("#kind") == "clever" and page.inner_text("#authorized-by") == "district"


def test_log_in_with_clever_picks_a_person_on_clevers_sign_in_page(world: DevWorld, page: Page) -> None:
    _open_sandbox(world, page)
    page.click("#try-log-in")
    page.wait_for_selector("text=Sign in to Clever first")
    assert MOUNT + "/oauth/authorize" in page.url
    page.click("a.person:has-text('Tess Teacher')")
    page.wait_for_selector("#who")
    assert page.inner_text("#who") == "Tess Teacher"
    assert page.inner_text("#integration") == "district_sso"


def test_secure_sync_connects_the_district_and_shows_its_roster(world: DevWorld, page: Page) -> None:
    _open_sandbox(world, page)
    page.click("#connect")
    page.wait_for_selector("text=the district has connected your app")
    page.click("#sync")
    page.wait_for_selector("#district-name")
    assert "/sandbox/clever/districts/" in page.url
    assert page.inner_text("#district-name") == "Maple Valley Schools"
    assert page.inner_text("#district-status") == "connected"
    assert page.inner_text("#sync-status") == "succeeded"
    row = page.inner_text("tr.section")
    assert "Grade 5 Math" in row and "Tess Teacher (teacher)" in row
    assert "Sam Student (student)" in row and "Ana Alvarez (student)" in row


def test_the_sandbox_page_explains_each_flow(world: DevWorld, page: Page) -> None:
    _open_sandbox(world, page)
    for section in ("#library", "#instant-login", "#log-in", "#secure-sync"):
        assert page.is_visible(section)
    text = page.inner_text("body")
    assert "Clever Library" in text and "Instant Login" in text and "Log in with Clever" in text
    assert "Secure Sync" in text
