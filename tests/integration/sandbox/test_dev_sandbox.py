"""Dev mode shows the whole flow in a browser: the sandbox LMS mounted at /sandbox/lms, the vendor landing page.

Outside dev mode (test, production) nothing under /sandbox answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from gateway.app import create_app
from gateway.bootstrap import bootstrap
from gateway.lti.registrations import registrations_for_issuer
from tests.support.gateway import GatewayUnderTest, start_gateway
from tests.support.lti_flow import Browser, launch, parse_page
from tests.support.lti_sandbox import start_dev_gateway

SANDBOX_PATHS = ["/sandbox/", "/sandbox/lms/", "/sandbox/lms/jwks", "/sandbox/vendor/launch?code=x", "/sandbox/clever/",
                 "/sandbox/clever/sim/oauth/authorize"]


@pytest.fixture
def dev_gateway(sqlite_url: str, keys_dir: Path) -> Iterator[GatewayUnderTest]:
    gateway = start_dev_gateway(sqlite_url, keys_dir)
    try:
        yield gateway
    finally:
        gateway.close()
    gateway.contract.assert_clean()


def _sandbox_issuer(gateway: GatewayUnderTest) -> str:
    return gateway.url + "/sandbox/lms"


def test_dev_server_registers_the_sandbox_once(dev_gateway: GatewayUnderTest) -> None:
    create_app(services=bootstrap(dev_gateway.services.settings))  # a second start (another worker, a restart)
    with dev_gateway.services.db.transaction() as s:
        registrations = registrations_for_issuer(s, _sandbox_issuer(dev_gateway))
    assert len(registrations) == 1 and registrations[0].lms == "sandbox"


def test_dev_home_lists_the_launches(dev_gateway: GatewayUnderTest) -> None:
    home = requests.get(dev_gateway.url + "/sandbox/", timeout=10)
    assert home.status_code == 200 and "Open the activity as the teacher" in home.text
    assert "Open the activity as a student" in home.text


@pytest.mark.parametrize(("user", "name", "role"), [("teacher", "Tess Teacher", "teacher"),
                                                     ("student", "Sam Student", "student")])
def test_dev_launch_reaches_the_vendor_page(dev_gateway: GatewayUnderTest, user: str, name: str, role: str) -> None:
    browser = Browser()
    try:
        start = browser.get(f"{dev_gateway.url}/sandbox/lms/start?user={user}&message=resource")
        result = launch(browser, urljoin(dev_gateway.url, start.headers["Location"]))
        vendor = browser.get(result.final.headers["Location"])
    finally:
        browser.close()
    assert vendor.status_code == 200
    assert f'id="who">{name}<' in vendor.text and f'id="role">{role}<' in vendor.text
    assert "&quot;kind&quot;: &quot;lti&quot;" in vendor.text


def test_dev_deep_linking_returns_items_to_the_sandbox(dev_gateway: GatewayUnderTest) -> None:
    browser = Browser()
    try:
        start = browser.get(f"{dev_gateway.url}/sandbox/lms/start?user=teacher&message=deep_linking")
        result = launch(browser, urljoin(dev_gateway.url, start.headers["Location"]))
        vendor = browser.get(result.final.headers["Location"])
        form = parse_page(vendor.text)
        assert form.action and form.action.startswith("/sandbox/vendor/deep-link/")
        answer = browser.request("POST", dev_gateway.url + form.action, data=[("item", "quiz"), ("item", "html")])
        back = parse_page(answer.text)
        assert back.action == _sandbox_issuer(dev_gateway) + "/deep-link-return"
        received = browser.post(back.action, back.fields)
    finally:
        browser.close()
    assert received.status_code == 200 and "received 2 item(s)" in received.text


@pytest.mark.parametrize("env", ["test", "production"])
def test_sandbox_is_never_served_outside_dev(sqlite_url: str, keys_dir: Path, env: str) -> None:
    overrides: dict[str, object] = {"env": env}
    if env == "production":
        overrides.update(public_base_url="https://gateway.example.edu", vendor_launch_url="https://app.example.edu/lti",
                         allow_sqlite_in_production=True)
    gateway = start_gateway(sqlite_url, keys_dir, **overrides)
    try:
        for path in SANDBOX_PATHS:
            response = requests.get(gateway.url + path, timeout=10, allow_redirects=False)
            assert response.status_code == 404, path
    finally:
        gateway.close()
