"""Clever login flows as a person's browser walks them, and what a test checks afterwards."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import requests
from sqlalchemy import func, select

from gateway.store.models.core import LaunchRow, UserRow
from tests.support.clever_sim import Browser, RunningClever, query
from tests.support.gateway import GatewayUnderTest


def vendor_url(gw: GatewayUnderTest) -> str:
    return gw.services.settings.vendor_launch_url


def callback_url(gw: GatewayUnderTest) -> str:
    return gw.url + "/clever/callback"


def sign_in(browser: Browser, clever: RunningClever, user_id: str, authorized_by: str = "district") -> None:
    response = browser.go(f"{clever.url}/sim/signin?{urlencode({'user_id': user_id, 'authorized_by': authorized_by})}")
    assert response.status_code == 200, response.text


def portal_login(gw: GatewayUnderTest, clever: RunningClever, browser: Browser, user_id: str,
                 authorized_by: str = "district") -> requests.Response:
    """A click on the app in the Clever Portal (or a Library install): code, no state, first redirect URI."""
    sign_in(browser, clever, user_id, authorized_by)
    return browser.go(f"{clever.url}/sim/portal", stop_at=vendor_url(gw))


def app_login(gw: GatewayUnderTest, clever: RunningClever, browser: Browser, user_id: str,
              authorized_by: str = "district", district_id: str | None = None) -> requests.Response:
    """“Log in with Clever” on the vendor's page: through the gateway's /clever/login, with a state."""
    sign_in(browser, clever, user_id, authorized_by)
    suffix = f"?district_id={district_id}" if district_id else ""
    return browser.go(f"{gw.url}/clever/login{suffix}", stop_at=vendor_url(gw))


def arrived_at_vendor(gw: GatewayUnderTest, browser: Browser) -> str:
    assert browser.last_url.startswith(vendor_url(gw)), [h.url for h in browser.hops]
    return query(browser.last_url)["code"]


def redeem(gw: GatewayUnderTest, code: str) -> dict[str, Any]:
    response = gw.api("launches").post(f"{gw.url}/api/v1/launches/redeem", json={"code": code}, timeout=10)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def login_record(gw: GatewayUnderTest, browser: Browser) -> dict[str, Any]:
    return redeem(gw, arrived_at_vendor(gw, browser))


def stored_counts(gw: GatewayUnderTest) -> tuple[int, int]:
    """(launches, users) in the gateway's database."""
    with gw.services.db.transaction() as s:
        launches = s.scalar(select(func.count()).select_from(LaunchRow)) or 0
        users = s.scalar(select(func.count()).select_from(UserRow)) or 0
    return int(launches), int(users)


def assert_refused_page(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("text/html")
    assert f'id="error-code">{code}<' in response.text
    assert 'id="log-in-again"' in response.text
    assert response.headers["Cache-Control"] == "no-store"
