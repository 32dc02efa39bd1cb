"""Dev mode shows the whole flow in a browser: the sandbox LMS mounted at /sandbox/lms, the vendor landing page.

Outside dev mode (test, production) nothing under /sandbox answers.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from gateway.app import create_app
from gateway.bootstrap import bootstrap
from gateway.lti.registrations import registrations_for_issuer
from tests.support.gateway import GatewayUnderTest, outside_dev, start_gateway
from tests.support.lti_flow import Browser, launch, parse_page

SANDBOX_PATHS = ["/", "/sandbox/", "/sandbox/lms/", "/sandbox/lms/jwks", "/sandbox/lms/gradebook", "/sandbox/vendor/",
                 "/sandbox/vendor/launch?code=x", "/sandbox/clever/", "/sandbox/clever/sim/oauth/authorize"]


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
    course = requests.get(dev_gateway.url + "/sandbox/lms/", timeout=10).text
    assert "<strong>Activity</strong>: Fractions quiz · graded out of 10" in course
    assert "<strong>Text</strong>: Warm-up" in course and 'name="item" value="1"' in course


@pytest.mark.parametrize("env", ["test", "production"])
def test_sandbox_is_never_served_outside_dev(sqlite_url: str, keys_dir: Path, env: str) -> None:
    overrides = outside_dev(env)
    gateway = start_gateway(sqlite_url, keys_dir, **overrides)
    try:
        for path in SANDBOX_PATHS:
            response = requests.get(gateway.url + path, timeout=10, allow_redirects=False)
            assert response.status_code == 404, path
    finally:
        gateway.close()


def _vendor_url(gateway: GatewayUnderTest, browser: Browser, user: str = "student", message: str = "resource") -> str:
    start = browser.get(f"{gateway.url}/sandbox/lms/start?user={user}&message={message}")
    result = launch(browser, urljoin(gateway.url, start.headers["Location"]))
    location: str = result.final.headers["Location"]
    return location


def test_the_landing_page_links_every_flow(dev_gateway: GatewayUnderTest) -> None:
    page = requests.get(dev_gateway.url + "/", timeout=10)
    assert page.status_code == 200
    for href in ("/sandbox/lms/", "/sandbox/lms/gradebook", "/sandbox/clever/", "/sandbox/vendor/", "/docs/api",
                 "/openapi.yaml", "/healthz", "/metrics"):
        assert f'href="{href}"' in page.text, href


def test_a_held_code_is_left_for_the_shell_and_explained_after_use(dev_gateway: GatewayUnderTest) -> None:
    browser = Browser()
    try:
        switched = browser.post(dev_gateway.url + "/sandbox/vendor/hold", {"hold": "on", "next": "/"})
        assert switched.status_code == 303 and switched.headers["Location"] == "/"
        vendor_url = _vendor_url(dev_gateway, browser)
        code = parse_qs(urlsplit(vendor_url).query)["code"][0]
        held = browser.get(vendor_url)
        assert held.status_code == 200 and f'<code id="code">{code}</code>' in held.text
        curl = f"-d &#x27;{{&quot;code&quot;:&quot;{code}&quot;}}&#x27; {dev_gateway.url}/api/v1/launches/redeem"
        assert curl in held.text
        assert browser.get(vendor_url).status_code == 200  # holding twice uses nothing
        redeemed = dev_gateway.api("launches").post(dev_gateway.url + "/api/v1/launches/redeem", json={"code": code})
        assert redeemed.status_code == 200 and redeemed.json()["user"]["name"] == "Sam Student"
        reloaded = browser.get(vendor_url)
    finally:
        browser.close()
    assert reloaded.status_code == 409
    assert 'id="used"' in reloaded.text and "works <strong>once</strong>" in reloaded.text
    assert 'id="launch-again" href="/sandbox/lms/"' in reloaded.text
    assert 'id="record"' not in reloaded.text  # another key redeemed it: its record is not this page's to show


def test_a_reload_after_the_page_redeemed_explains_and_shows_the_record_again(dev_gateway: GatewayUnderTest) -> None:
    browser = Browser()
    try:
        vendor_url = _vendor_url(dev_gateway, browser, user="teacher")
        first = browser.get(vendor_url)
        again = browser.get(vendor_url)
    finally:
        browser.close()
    assert first.status_code == 200 and 'id="who">Tess Teacher<' in first.text
    assert again.status_code == 409 and 'id="used"' in again.text and 'id="launch-again"' in again.text
    assert 'id="record"' in again.text and "Tess Teacher" in again.text


def test_the_hold_switch_goes_back_and_refuses_other_sites(dev_gateway: GatewayUnderTest) -> None:
    browser = Browser()
    try:
        browser.post(dev_gateway.url + "/sandbox/vendor/hold", {"hold": "on", "next": "/"})
        assert "holds each code for you to redeem from your shell" in browser.get(dev_gateway.url + "/").text
        off = browser.post(dev_gateway.url + "/sandbox/vendor/hold", {"hold": "off", "next": "//evil.example/"})
        assert off.headers["Location"] == "/sandbox/vendor/"
        vendor = browser.get(_vendor_url(dev_gateway, browser))
    finally:
        browser.close()
    assert vendor.status_code == 200 and 'id="who">Sam Student<' in vendor.text


def _deep_link_form(gateway: GatewayUnderTest, browser: Browser) -> str:
    vendor = browser.get(_vendor_url(gateway, browser, user="teacher", message="deep_linking"))
    action = parse_page(vendor.text).action
    assert action is not None and action.startswith("/sandbox/vendor/deep-link/")
    return gateway.url + action


def test_an_empty_pick_is_refused_and_nothing_reaches_the_lms(dev_gateway: GatewayUnderTest) -> None:
    browser = Browser()
    try:
        action = _deep_link_form(dev_gateway, browser)
        refused = browser.request("POST", action, data=[])
        assert refused.status_code == 422 and 'id="picker-error"' in refused.text
        assert "Pick at least one item" in refused.text and parse_page(refused.text).action == urlsplit(action).path
        cancelled = browser.request("POST", action, data=[("cancel", "1"), ("item", "quiz")])
        back = parse_page(cancelled.text)
        assert back.action is not None
        received = browser.post(back.action, back.fields)
    finally:
        browser.close()
    assert received.status_code == 200 and "id='nothing'" in received.text  # cancel: an empty answer on purpose
    assert 'id="content-empty"' in requests.get(dev_gateway.url + "/sandbox/lms/", timeout=10).text
