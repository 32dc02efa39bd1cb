"""Dev mode serves the simulated Clever and points an unconfigured Clever at it; a configured Clever is kept.

The flows on ``/sandbox/clever/`` are walked in Chromium by ``tests/e2e/test_clever_sandbox_browser.py``; these are
the wiring and the refusals.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from gateway.app import dev_settings
from gateway.store.models.clever import CleverDistrictRow
from sandbox.clever.dev import CLIENT_ID, MOUNT
from tests.support.gateway import GatewayUnderTest, make_test_settings, outside_dev
from tests.support.lti_sandbox import start_dev_gateway


def _districts(gateway: GatewayUnderTest) -> int:
    with gateway.services.db.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(CleverDistrictRow)) or 0)


def test_dev_points_an_unconfigured_clever_at_the_mounted_simulator(dev_gateway: GatewayUnderTest) -> None:
    settings = dev_gateway.services.settings
    assert settings.clever_client_id == CLIENT_ID
    assert settings.clever_oauth_base_url == settings.clever_api_base_url == dev_gateway.url + MOUNT
    # The simulator answers there: Clever's token endpoint refuses a caller without the client's credentials.
    refused = requests.post(dev_gateway.url + MOUNT + "/oauth/tokens", timeout=10)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    page = requests.get(dev_gateway.url + "/sandbox/clever/", timeout=10)
    assert page.status_code == 200 and 'id="try-library"' in page.text


def test_a_configured_clever_is_kept_and_no_simulator_mounted(sqlite_url: str, keys_dir: Path) -> None:
    gateway = start_dev_gateway(sqlite_url, keys_dir, clever_client_id="real-id", clever_client_secret="real-secret")
    try:
        assert gateway.services.settings.clever_oauth_base_url == "https://clever.com"
        assert requests.get(gateway.url + MOUNT + "/oauth/authorize", timeout=10).status_code == 404
        page = requests.get(gateway.url + "/sandbox/clever/", timeout=10)
        assert page.status_code == 200 and "the simulated Clever is not mounted" in page.text
        assert requests.post(gateway.url + "/sandbox/clever/sync", timeout=10, allow_redirects=False).status_code == 200
        assert _districts(gateway) == 0
    finally:
        gateway.close()


@pytest.mark.parametrize("env", ["test", "production"])
def test_only_dev_fills_in_clever(sqlite_url: str, keys_dir: Path, env: str) -> None:
    overrides = outside_dev(env)
    settings = make_test_settings(sqlite_url, keys_dir, **overrides)
    assert dev_settings(settings) is settings and settings.clever_client_id == ""


def test_a_sync_before_the_district_connects_is_refused_and_stores_nothing(dev_gateway: GatewayUnderTest) -> None:
    answer = requests.post(dev_gateway.url + "/sandbox/clever/sync", timeout=30, allow_redirects=False)
    assert answer.status_code == 409 and "Connect the district first" in answer.text
    assert _districts(dev_gateway) == 0


def test_a_sync_after_the_district_connects_stores_its_roster(dev_gateway: GatewayUnderTest) -> None:
    connected = requests.post(dev_gateway.url + "/sandbox/clever/connect", timeout=10, allow_redirects=False)
    assert connected.status_code == 303
    again = requests.post(dev_gateway.url + "/sandbox/clever/connect", timeout=10, allow_redirects=False)
    assert again.status_code == 303  # connecting twice keeps one token
    synced = requests.post(dev_gateway.url + "/sandbox/clever/sync", timeout=30, allow_redirects=False)
    assert synced.status_code == 303
    district = requests.get(dev_gateway.url + synced.headers["Location"], timeout=10)
    assert district.status_code == 200 and "Maple Valley Schools" in district.text
    assert "Sam Student (student)" in district.text
    assert _districts(dev_gateway) == 1


def test_an_unknown_district_page_says_not_synced(dev_gateway: GatewayUnderTest) -> None:
    answer = requests.get(dev_gateway.url + "/sandbox/clever/districts/nope", timeout=10)
    assert answer.status_code == 404 and "District not synced" in answer.text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_the_simulators_sign_in_goes_on_only_to_its_own_paths(dev_gateway: GatewayUnderTest, target: str) -> None:
    page = requests.get(dev_gateway.url + "/sandbox/clever/", timeout=10)
    assert page.status_code == 200
    signin = requests.get(dev_gateway.url + MOUNT + "/sim/signin", params={"user_id": "nobody", "next": target},
                          timeout=10, allow_redirects=False)
    assert signin.status_code == 400  # an unknown person signs nobody in, wherever it was to go
    people = dev_gateway.url + MOUNT + "/oauth/authorize"
    listing = requests.get(people, params={"client_id": CLIENT_ID, "response_type": "code"}, timeout=10)
    user_id = listing.text.split("user_id=", 1)[1].split("&", 1)[0]
    answer = requests.get(dev_gateway.url + MOUNT + "/sim/signin", params={"user_id": user_id, "next": target},
                          timeout=10, allow_redirects=False)
    assert answer.status_code == 200 and answer.json() == {"signed_in": user_id}  # no redirect off the simulator


def _link(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}" href="([^"]+)"', page)
    assert match is not None, element_id
    return html.unescape(match.group(1))


@pytest.mark.parametrize(("link", "name", "role"), [("try-instant-login", "Sam Student", "student"),
                                                    ("try-library", "Lee Library", "teacher")])
def test_a_clever_sign_in_ends_on_the_dev_vendor_page(dev_gateway: GatewayUnderTest, link: str, name: str,
                                                      role: str) -> None:
    # make run's whole path: the sandbox page's link, the simulated Clever, the gateway's callback, the dev
    # vendor page (which showed a 500 for Clever launches: it read only LTI records).
    page = requests.get(dev_gateway.url + "/sandbox/clever/", timeout=10).text
    with requests.Session() as browser:
        arrived = browser.get(dev_gateway.url + _link(page, link), timeout=30)
    assert arrived.url.startswith(dev_gateway.url + "/sandbox/vendor/launch?code=")
    assert arrived.status_code == 200
    assert f'id="who">{name}<' in arrived.text and f'id="role">{role}<' in arrived.text
    assert "&quot;kind&quot;: &quot;clever&quot;" in arrived.text
