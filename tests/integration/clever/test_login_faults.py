"""Clever misbehaving while a person waits in the callback: each failure is a page with its code, nothing is
stored, and the code is remembered as failed (a refresh does not reach Clever again)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from gateway.clever.privacy import sha256_hex
from gateway.store.models.clever import CleverOAuthCodeRow
from sandbox.clever import CleverSim
from tests.support.clever_flows import assert_refused_page, callback_url, login_record, sign_in, stored_counts
from tests.support.clever_sim import Browser, RunningClever, query
from tests.support.gateway import GatewayUnderTest


@dataclass(frozen=True)
class Fault:
    prefix: str
    method: str | None = None
    failures: tuple[int, ...] = ()
    html: int = 0
    rate_limited: int = 0
    reset_in: float = 1.0
    bodies: tuple[Any, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def apply(self, sim: CleverSim, user_id: str) -> None:
        switches = sim.switches
        switches.prefix, switches.method = self.prefix.replace("{user}", user_id), self.method
        switches.failures = list(self.failures)
        switches.html, switches.rate_limited, switches.rate_limit_reset_in = self.html, self.rate_limited, \
            self.reset_in
        switches.bodies = [_fill(b, user_id) for b in self.bodies]


def _fill(body: Any, user_id: str) -> Any:
    return {k: _fill(v, user_id) for k, v in body.items()} if isinstance(body, dict) else (
        user_id if body == "{user}" else body)


EXCHANGE = "/oauth/tokens"
ME = "/v3.0/me"
USER = "/v3.0/users/{user}"

# Clever answers "reset at ceil(now + 3.5)": within the 5 s the test settings let background calls wait, past
# the 3 s a waiting person gets.
LONG = 3.5

CASES = {
    "exchange answers 503": (Fault(EXCHANGE, "POST", failures=(503,)), 502, "CLEVER_UNAVAILABLE"),
    "exchange answers a web page": (Fault(EXCHANGE, "POST", html=1), 502, "CLEVER_WRONG_TOKEN"),
    "exchange rate-limited for long": (Fault(EXCHANGE, "POST", rate_limited=1, reset_in=LONG), 503, "CLEVER_BUSY"),
    "/me keeps failing": (Fault(ME, failures=(500, 502, 503)), 502, "CLEVER_UNAVAILABLE"),
    "/me rate-limited for long": (Fault(ME, rate_limited=1, reset_in=LONG), 503, "CLEVER_BUSY"),
    "/me without authorized_by": (Fault(ME, bodies=({"type": "user", "data": {"id": "{user}", "type": "user"}},)),
                                  502, "CLEVER_USER_INCOMPLETE"),
    "user record of someone else": (Fault(USER, bodies=({"data": {"id": "0" * 24, "name": {"first": "X"}}},)),
                                    502, "CLEVER_USER_INCOMPLETE"),
    "user record a web page": (Fault(USER, html=1), 502, "CLEVER_WRONG_TOKEN"),
}


def _teacher(sim: CleverSim) -> str:
    district = sim.add_district("Alder USD", connect=False)
    return sim.add_user(district, first="Ann", last="Lee", email="ann@alder.org",
                        roles={"teacher": {"sis_id": "T-9", "school": sim.add_school(district)}})


@pytest.mark.parametrize("case", list(CASES))
def test_each_failure_is_a_page_with_its_code(clever_gateway: GatewayUnderTest, clever: RunningClever,
                                              browser: Browser, case: str) -> None:
    fault, status, code = CASES[case]
    teacher = _teacher(clever.sim)
    sign_in(browser, clever, teacher)
    browser.go(f"{clever.url}/sim/portal", stop_at=callback_url(clever_gateway))
    arriving = browser.last_url
    fault.apply(clever.sim, teacher)
    response = browser.go(arriving)
    assert_refused_page(response, status, code)
    if code == "CLEVER_BUSY":
        assert response.headers["Retry-After"].isdigit()
    assert stored_counts(clever_gateway) == (0, 0)
    with clever_gateway.services.db.transaction() as s:
        row = s.get(CleverOAuthCodeRow, sha256_hex(query(arriving)["code"]))
        assert row is not None and (row.status, row.error_code, row.launch_id) == ("failed", code, None)
    assert clever.sim.token_exchanges() == 1  # a POST is never retried, a 429 never waited out for long
    before = len(clever.sim.requests)
    again = browser.session.get(arriving, allow_redirects=False, timeout=10)
    assert_refused_page(again, 409, "CLEVER_CODE_ALREADY_USED")
    assert len(clever.sim.requests) == before


def test_identity_calls_are_retried_once_for_a_waiting_person(clever_gateway: GatewayUnderTest,
                                                             clever: RunningClever, browser: Browser) -> None:
    teacher = _teacher(clever.sim)
    sign_in(browser, clever, teacher)
    browser.go(f"{clever.url}/sim/portal", stop_at=callback_url(clever_gateway))
    Fault(ME, failures=(503, 503, 503)).apply(clever.sim, teacher)
    browser.go(browser.last_url)
    assert sum(1 for r in clever.sim.requests if r.path == ME) == 2  # the call and one retry, not four


@pytest.mark.parametrize("fault", [Fault(EXCHANGE, "POST", rate_limited=1, reset_in=0.5),
                                   Fault(EXCHANGE, "POST", failures=(500,))], ids=["429", "500"])
def test_a_code_reaches_the_token_endpoint_once_whatever_the_answer(clever_gateway: GatewayUnderTest,
                                                                   clever: RunningClever, browser: Browser,
                                                                   fault: Fault) -> None:
    """Issue 12 #3: codes are single-use; even a short 429 is not waited out and re-posted. The page starts afresh."""
    teacher = _teacher(clever.sim)
    sign_in(browser, clever, teacher)
    browser.go(f"{clever.url}/sim/portal", stop_at=callback_url(clever_gateway))
    fault.apply(clever.sim, teacher)
    refused = browser.go(browser.last_url)
    assert_refused_page(refused, 503 if fault.rate_limited else 502,
                        "CLEVER_BUSY" if fault.rate_limited else "CLEVER_UNAVAILABLE")
    assert clever.sim.token_exchanges() == 1
    assert stored_counts(clever_gateway) == (0, 0)
    # The page's link starts a fresh login: a new code, exchanged once, and the person gets in.
    href = refused.text.split('id="log-in-again"')[0].rsplit('href="', 1)[1].split('"', 1)[0]
    browser.go(clever_gateway.url + href, stop_at=clever_gateway.services.settings.vendor_launch_url)
    assert login_record(clever_gateway, browser)["clever_user_id"] == teacher
    assert clever.sim.token_exchanges() == 2
