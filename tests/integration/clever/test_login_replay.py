"""A repeated callback URL shows the result only to the browser that brought the code (shared devices).

Anyone else holding the URL (the next student at a classroom computer, a leaked history entry) gets
``CLEVER_CODE_ALREADY_USED`` with a log-in-again page, whatever state they add or leave out; the person's own
refresh still lands at the vendor while the hand-off is unredeemed.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import pytest

from gateway.clever.privacy import sha256_hex
from gateway.store.models.clever import CleverOAuthCodeRow
from gateway.store.repositories.clever import CleverLoginRepository
from sandbox.clever import CleverSim
from tests.support.clever_flows import (
    app_login,
    assert_refused_page,
    callback_url,
    portal_login,
    stored_counts,
)
from tests.support.clever_sim import Browser, RunningClever, query
from tests.support.gateway import GatewayUnderTest


def _teacher(sim: CleverSim) -> str:
    district = sim.add_district("Birch USD", connect=False)
    return sim.add_user(district, first="Jo", last="March", email="jo@birch.org",
                        roles={"teacher": {"sis_id": "T-3", "school": sim.add_school(district)}})


def _callback_hop(gw: GatewayUnderTest, browser: Browser) -> str:
    return next(h.url for h in browser.hops if h.url.startswith(callback_url(gw)))


def _refused_everywhere(gw: GatewayUnderTest, attempts: list[tuple[Browser, str]]) -> None:
    for who, url in attempts:
        response = who.session.get(url, allow_redirects=False, timeout=10)
        assert_refused_page(response, 409, "CLEVER_CODE_ALREADY_USED")
        assert "Location" not in response.headers


def test_a_portal_callback_url_alone_does_not_take_over_the_login(clever_gateway: GatewayUnderTest,
                                                                 clever: RunningClever, browser: Browser) -> None:
    teacher = _teacher(clever.sim)
    portal_login(clever_gateway, clever, browser, teacher)
    first_vendor_url = browser.last_url
    hop = _callback_hop(clever_gateway, browser)
    assert "state" not in query(hop)
    stranger = Browser()
    try:
        _refused_everywhere(clever_gateway, [
            (stranger, hop),                      # the URL as it was
            (stranger, hop + "&state=forged"),    # with a made-up state
            (browser, hop + "&state=forged"),     # even the same browser may not change the URL
        ])
    finally:
        stranger.close()
    # The person's own refresh (the launch cookie the first answer set) still gets the result.
    again = browser.session.get(hop, allow_redirects=False, timeout=10)
    assert (again.status_code, again.headers["Location"]) == (302, first_vendor_url)
    assert clever.sim.token_exchanges() == 1
    assert stored_counts(clever_gateway) == (1, 1)


def test_a_log_in_with_clever_callback_url_is_tied_to_its_state_and_browser(
    clever_gateway: GatewayUnderTest, clever: RunningClever, browser: Browser
) -> None:
    teacher = _teacher(clever.sim)
    app_login(clever_gateway, clever, browser, teacher)
    first_vendor_url = browser.last_url
    hop = _callback_hop(clever_gateway, browser)
    code, state = query(hop)["code"], query(hop)["state"]
    base = callback_url(clever_gateway)
    stranger = Browser()
    try:
        # A stranger who started a login of their own holds a valid state and its binding cookie.
        own = stranger.session.get(f"{clever_gateway.url}/clever/login", allow_redirects=False, timeout=10)
        their_state = query(own.headers["Location"])["state"]
        _refused_everywhere(clever_gateway, [
            (stranger, hop),                                                     # no cookies at all
            (stranger, f"{base}?{urlencode({'code': code})}"),                   # state left out
            (stranger, f"{base}?{urlencode({'code': code, 'state': their_state})}"),  # their own state
            (browser, f"{base}?{urlencode({'code': code})}"),                    # the right browser, no state
        ])
    finally:
        stranger.close()
    again = browser.session.get(hop, allow_redirects=False, timeout=10)
    assert (again.status_code, again.headers["Location"]) == (302, first_vendor_url)
    assert state and clever.sim.token_exchanges() == 1
    assert stored_counts(clever_gateway) == (1, 1)


def _pending_code(gw: GatewayUnderTest, browser: Browser, *, age: dt.timedelta) -> str:
    """This browser started a login whose code the gateway took ``age`` ago and never finished."""
    start = browser.session.get(f"{gw.url}/clever/login", allow_redirects=False, timeout=10)
    state = query(start.headers["Location"])["state"]
    now = dt.datetime.now(dt.UTC)
    with gw.services.db.transaction() as s:
        assert CleverLoginRepository(s).claim_code(sha256_hex("c0de"), now - age, now + dt.timedelta(minutes=15),
                                                   state_hash=sha256_hex(state))
    return f"{callback_url(gw)}?{urlencode({'code': 'c0de', 'state': state})}"


def test_a_code_still_being_exchanged_says_so(clever_gateway: GatewayUnderTest, clever: RunningClever,
                                              browser: Browser) -> None:
    clever_gateway.services.clever.login.replay_wait_seconds = 0.3  # the page after a short wait, not 5 s
    url = _pending_code(clever_gateway, browser, age=dt.timedelta(seconds=1))
    response = browser.go(url)
    assert_refused_page(response, 409, "CLEVER_LOGIN_IN_PROGRESS")
    assert clever.sim.token_exchanges() == 0
    assert stored_counts(clever_gateway) == (0, 0)


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_a_code_left_pending_by_a_crash_is_not_in_progress_forever(clever_gateway: GatewayUnderTest,
                                                                   clever: RunningClever, browser: Browser,
                                                                   accept: str) -> None:
    url = _pending_code(clever_gateway, browser, age=dt.timedelta(minutes=2))
    response = browser.session.get(url, headers={"Accept": accept}, allow_redirects=False, timeout=10)
    assert response.status_code == 409
    if accept == "text/html":
        assert_refused_page(response, 409, "CLEVER_CODE_ALREADY_USED")
    else:
        body = response.json()
        assert (body["code"], body["first_error_code"]) == ("CLEVER_CODE_ALREADY_USED", "CLEVER_LOGIN_INTERRUPTED")
    with clever_gateway.services.db.transaction() as s:
        row = s.get(CleverOAuthCodeRow, sha256_hex("c0de"))
        assert row is not None and (row.status, row.error_code) == ("failed", "CLEVER_LOGIN_INTERRUPTED")
    assert clever.sim.token_exchanges() == 0
    assert stored_counts(clever_gateway) == (0, 0)

