"""Clever logins over loopback: Portal (no state), Log in with Clever (state), refusals, code replays."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
import requests
from sqlalchemy import update

from gateway.store.models.clever import CleverLoginStateRow
from sandbox.clever import CleverSim
from tests.support.clever_flows import (
    app_login,
    arrived_at_vendor,
    assert_refused_page,
    callback_url,
    login_record,
    portal_login,
    redeem,
    sign_in,
    stored_counts,
)
from tests.support.clever_sim import Browser, RunningClever, query, start_gateway_with_clever
from tests.support.gateway import GatewayUnderTest


def _district_teacher(sim: CleverSim) -> tuple[str, str]:
    district = sim.add_district("Oak Valley USD", connect=False)
    school = sim.add_school(district)
    teacher = sim.add_user(district, first="Rosa", last="Parker", email="rosa@oakvalley.org",
                           roles={"teacher": {"sis_id": "T-100", "school": school}})
    return district, teacher


def test_portal_login_without_state(clever_gateway: GatewayUnderTest, clever: RunningClever,
                                    browser: Browser) -> None:
    district, teacher = _district_teacher(clever.sim)
    portal_login(clever_gateway, clever, browser, teacher)
    callback_hop = next(h.url for h in browser.hops if h.url.startswith(callback_url(clever_gateway)))
    assert "state" not in query(callback_hop)
    record = login_record(clever_gateway, browser)
    assert record["kind"] == "clever"
    assert (record["integration"], record["authorized_by"], record["initiated_by"]) == (
        "district_sso", "district", "clever")
    assert (record["clever_user_id"], record["district_id"], record["roles"]) == (teacher, district, ["teacher"])
    assert record["name"] == {"first": "Rosa", "last": "Parker", "last_initial": "P"}
    assert record["email"] == "rosa@oakvalley.org"
    assert record["user_id"].startswith("usr_")
    assert clever.sim.token_exchanges() == 1
    me_calls = [r.path for r in clever.sim.requests if r.auth == "sso"]
    assert me_calls == ["/v3.0/me", f"/v3.0/users/{teacher}"]
    registry = clever_gateway.services.metrics.registry
    labels = {"integration": "district_sso", "initiated_by": "clever"}
    assert registry.get_sample_value("gateway_clever_logins_total", labels) == 1


def test_clever_not_configured(gateway: GatewayUnderTest, browser: Browser) -> None:
    for path in ("/clever/login", "/clever/callback?code=abc"):
        response = browser.go(gateway.url + path)
        assert response.status_code == 503
        assert 'id="error-code">CLEVER_NOT_CONFIGURED<' in response.text
    assert stored_counts(gateway) == (0, 0)


def test_malformed_district_id_is_refused(clever_gateway: GatewayUnderTest, browser: Browser) -> None:
    response = browser.go(f"{clever_gateway.url}/clever/login?district_id=../../x")
    assert response.status_code == 400
    assert 'id="error-code">BAD_REQUEST<' in response.text


def test_log_in_with_clever_sends_and_checks_a_state(clever_gateway: GatewayUnderTest, clever: RunningClever,
                                                     browser: Browser) -> None:
    district, teacher = _district_teacher(clever.sim)
    app_login(clever_gateway, clever, browser, teacher, district_id=district)
    authorize = query(next(h.url for h in browser.hops if "/oauth/authorize" in h.url))
    assert authorize["district_id"] == district
    assert authorize["redirect_uri"] == callback_url(clever_gateway)
    assert authorize["response_type"] == "code" and len(authorize["state"]) >= 40
    callback_hop = next(h.url for h in browser.hops if h.url.startswith(callback_url(clever_gateway)))
    assert query(callback_hop)["state"] == authorize["state"]
    record = login_record(clever_gateway, browser)
    assert record["initiated_by"] == "app"
    assert "gw_clever_login" not in browser.session.cookies.get_dict()


def test_state_from_another_browser_is_refused(clever_gateway: GatewayUnderTest, clever: RunningClever,
                                               browser: Browser) -> None:
    _, teacher = _district_teacher(clever.sim)
    start = browser.session.get(f"{clever_gateway.url}/clever/login", allow_redirects=False, timeout=5)
    other = Browser()
    try:
        sign_in(other, clever, teacher)
        response = other.go(start.headers["Location"])
    finally:
        other.close()
    assert_refused_page(response, 403, "CLEVER_STATE_MISMATCH")
    assert stored_counts(clever_gateway) == (0, 0)
    assert clever.sim.token_exchanges() == 0


def test_unknown_state_is_refused(clever_gateway: GatewayUnderTest, browser: Browser) -> None:
    response = browser.go(f"{callback_url(clever_gateway)}?code=abc&state=forged")
    assert_refused_page(response, 403, "CLEVER_STATE_MISMATCH")


def test_expired_state_is_refused(clever_gateway: GatewayUnderTest, clever: RunningClever,
                                  browser: Browser) -> None:
    _, teacher = _district_teacher(clever.sim)
    sign_in(browser, clever, teacher)
    start = browser.session.get(f"{clever_gateway.url}/clever/login", allow_redirects=False, timeout=5)
    with clever_gateway.services.db.transaction() as s:
        s.execute(update(CleverLoginStateRow).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    response = browser.go(start.headers["Location"])
    assert_refused_page(response, 403, "CLEVER_STATE_EXPIRED")
    assert stored_counts(clever_gateway) == (0, 0)


def test_code_replay_never_reaches_clever_twice(clever_gateway: GatewayUnderTest, clever: RunningClever,
                                                browser: Browser) -> None:
    _, teacher = _district_teacher(clever.sim)
    portal_login(clever_gateway, clever, browser, teacher)
    first_vendor_url = browser.last_url
    callback_hop = next(h.url for h in browser.hops if h.url.startswith(callback_url(clever_gateway)))
    # A refresh before the vendor redeemed: the same result, not a second exchange.
    again = browser.session.get(callback_hop, allow_redirects=False, timeout=5)
    assert again.status_code == 302 and again.headers["Location"] == first_vendor_url
    redeem(clever_gateway, arrived_at_vendor(clever_gateway, browser))
    # After redemption (the back button): a page to log in again.
    late = browser.session.get(callback_hop, allow_redirects=False, timeout=5)
    assert_refused_page(late, 409, "CLEVER_CODE_ALREADY_USED")
    assert clever.sim.token_exchanges() == 1
    assert stored_counts(clever_gateway) == (1, 1)


@pytest.mark.parametrize("spoil", ["used", "expired"])
def test_invalid_grant(clever_gateway: GatewayUnderTest, clever: RunningClever, browser: Browser,
                       spoil: str) -> None:
    _, teacher = _district_teacher(clever.sim)
    sign_in(browser, clever, teacher)
    browser.go(f"{clever.url}/sim/portal", stop_at=callback_url(clever_gateway))
    arriving = browser.last_url
    grant = clever.sim.codes[query(arriving)["code"]]
    if spoil == "used":
        grant.used = True
    else:
        grant.expires_at = 0.0
    response = browser.go(arriving)
    assert_refused_page(response, 400, "CLEVER_INVALID_GRANT")
    assert stored_counts(clever_gateway) == (0, 0)
    replay = browser.session.get(arriving, headers={"Accept": "application/json"}, timeout=5)
    assert replay.status_code == 409
    assert replay.json()["code"] == "CLEVER_CODE_ALREADY_USED"
    assert replay.json()["first_error_code"] == "CLEVER_INVALID_GRANT"
    assert clever.sim.token_exchanges() == 1


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [("error=access_denied", 403, "CLEVER_ACCESS_DENIED"), ("", 400, "CLEVER_CODE_MISSING")],
)
def test_other_refusals(clever_gateway: GatewayUnderTest, browser: Browser, params: str, status: int,
                        code: str) -> None:
    response = browser.go(f"{callback_url(clever_gateway)}?{params}")
    assert_refused_page(response, status, code)
    assert stored_counts(clever_gateway) == (0, 0)


def test_new_login_on_the_same_browser_retires_the_previous_one(clever_gateway: GatewayUnderTest,
                                                               clever: RunningClever, browser: Browser) -> None:
    district, first = _district_teacher(clever.sim)
    second = clever.sim.add_user(district, first="Max", last="Moe", roles={"student": {"sis_id": "S-1"}})
    portal_login(clever_gateway, clever, browser, first)
    first_code = arrived_at_vendor(clever_gateway, browser)
    portal_login(clever_gateway, clever, browser, second)
    record = login_record(clever_gateway, browser)
    assert record["clever_user_id"] == second
    assert record["replace_session"] is True
    stale = clever_gateway.api("launches").post(f"{clever_gateway.url}/api/v1/launches/redeem",
                                                json={"code": first_code}, timeout=5)
    assert stale.status_code == 410
    assert stale.json()["code"] == "HANDOFF_CODE_EXPIRED"
    assert record["previous_launch_id"] is not None


def test_bounce_mode_sends_a_stateless_arrival_back_through_authorize(
    sqlite_url: str, keys_dir: Path, clever: RunningClever, browser: Browser
) -> None:
    gw = start_gateway_with_clever(sqlite_url, keys_dir, clever, clever_stateless_logins="bounce")
    try:
        _, teacher = _district_teacher(clever.sim)
        portal_login(gw, clever, browser, teacher)
        arrivals = [h.url for h in browser.hops if h.url.startswith(callback_url(gw))]
        assert len(arrivals) == 2
        assert "state" not in query(arrivals[0]) and "state" in query(arrivals[1])
        record = login_record(gw, browser)
        assert record["initiated_by"] == "clever"
        assert clever.sim.token_exchanges() == 1  # the state-less code was never exchanged
        assert "gw_clever_bounce" not in browser.session.cookies.get_dict()
        # A bounce that went nowhere (its cookie is left): the next Portal click bounces again and logs in.
        browser.session.cookies.set("gw_clever_bounce", "1", path="/clever")
        portal_login(gw, clever, browser, teacher)
        assert login_record(gw, browser)["clever_user_id"] == teacher
        # Two bounces in a row already: a third state-less arrival is a loop, refused.
        browser.session.cookies.set("gw_clever_bounce", "2", path="/clever")
        looped = browser.go(f"{clever.url}/sim/portal", stop_at=None)
        assert_refused_page(looped, 403, "CLEVER_STATE_MISSING")
    finally:
        gw.close()
    gw.contract.assert_clean()


def _at_the_callback(gw: GatewayUnderTest, clever: RunningClever, browser: Browser, user_id: str, *,
                     with_state: bool) -> str:
    """Walk a login up to the gateway's callback (not into it); the callback URL with Clever's code."""
    sign_in(browser, clever, user_id)
    start = f"{gw.url}/clever/login" if with_state else f"{clever.url}/sim/portal"
    browser.go(start, stop_at=callback_url(gw))
    return browser.last_url


def _all_at_once(url: str, cookies: dict[str, str], n: int = 3) -> list[requests.Response]:
    answers: list[requests.Response] = []

    def hit() -> None:
        with requests.Session() as session:
            session.cookies.update(cookies)
            answers.append(session.get(url, allow_redirects=False, timeout=15))

    threads = [threading.Thread(target=hit) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def test_a_double_submit_reaches_clever_once(clever_gateway_on: GatewayUnderTest, clever: RunningClever,
                                             browser: Browser) -> None:
    """The same browser sends the callback three times at once (its cookies, before any answer came back)."""
    _, teacher = _district_teacher(clever.sim)
    arriving = _at_the_callback(clever_gateway_on, clever, browser, teacher, with_state=True)
    answers = _all_at_once(arriving, browser.session.cookies.get_dict())
    assert [a.status_code for a in answers] == [302, 302, 302], [a.text for a in answers]
    assert len({a.headers["Location"] for a in answers}) == 1
    assert clever.sim.token_exchanges() == 1
    assert stored_counts(clever_gateway_on) == (1, 1)


def test_concurrent_strangers_with_a_portal_code_get_one_login(clever_gateway_on: GatewayUnderTest,
                                                               clever: RunningClever, browser: Browser) -> None:
    """A state-less code proves nothing about who holds it: one request logs in, the others are refused."""
    _, teacher = _district_teacher(clever.sim)
    arriving = _at_the_callback(clever_gateway_on, clever, browser, teacher, with_state=False)
    answers = _all_at_once(arriving, {})
    assert sorted(a.status_code for a in answers) == [302, 409, 409]
    refused = [a for a in answers if a.status_code == 409]
    assert all('id="error-code">CLEVER_CODE_ALREADY_USED<' in a.text for a in refused)
    assert clever.sim.token_exchanges() == 1
    assert stored_counts(clever_gateway_on) == (1, 1)
