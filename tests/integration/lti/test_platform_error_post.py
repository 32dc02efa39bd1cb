"""An error post instead of an id_token: a fixed explanation per OAuth/OIDC code, never the poster's words.

``POST /lti/launch`` with ``error`` and ``error_description`` needs no login, so anyone can send it; the page it
gets is served from the gateway's origin. The page explains the known codes in the gateway's own words, says
nothing specific about any other code, and the log keeps the code but not the description.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from html import escape

import pytest

from tests.support.lti_flow import Browser, parse_page
from tests.support.lti_sandbox import LtiWorld, stored

# One worker runs this module, so its module-scoped world (servers, keys, launches) is built once.
pytestmark = pytest.mark.xdist_group(__name__)

# What a phisher would like the gateway to say for them.
SPOOF = "Your district account is locked. Call 555-0100 or go to https://evil.example/reset <b>now</b>"
SPOOF_PARTS = ("555-0100", "evil.example", "district account is locked")

# A phrase of the gateway's own explanation for each code (gateway/lti/platform_errors.py).
CASES = {
    "login_required": (401, "LTI_PLATFORM_LOGIN_REQUIRED", "could not confirm from inside this frame"),
    "invalid_request": (400, "LTI_PLATFORM_ERROR", "incomplete or not as it expects"),
    "unauthorized_client": (400, "LTI_PLATFORM_ERROR", "this tool registration may not launch"),
    "access_denied": (400, "LTI_PLATFORM_ERROR", "did not allow you to open this tool"),
    "server_error": (400, "LTI_PLATFORM_ERROR", "a problem of its own"),
    "call_555-0100_now": (400, "LTI_PLATFORM_ERROR", "with an error instead of a launch"),  # unknown: generic
}


@pytest.fixture
def platform_logs() -> Iterator[list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("gateway.lti.platform_errors")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


@pytest.mark.parametrize("error", list(CASES))
def test_error_post_shows_a_fixed_explanation_and_never_the_description(
    shared_world: LtiWorld, platform_logs: list[logging.LogRecord], error: str
) -> None:
    status, code, phrase = CASES[error]
    browser = Browser()
    before = stored(shared_world.gateway)
    try:
        response = browser.post(f"{shared_world.gateway.url}/lti/launch",
                                {"error": error, "error_description": SPOOF})
        problem = browser.post(f"{shared_world.gateway.url}/lti/launch", {"error": error, "error_description": SPOOF},
                               headers={"Accept": "application/json"})
    finally:
        browser.close()

    assert (response.status_code, parse_page(response.text).error_code) == (status, code)
    assert phrase in response.text
    for text in (response.text, problem.text):
        for part in (*SPOOF_PARTS, escape(SPOOF), "&lt;b&gt;"):
            assert part not in text
    assert (problem.status_code, problem.json()["code"]) == (status, code)
    known = error in ("login_required", "invalid_request", "unauthorized_client", "access_denied", "server_error")
    assert problem.json()["platform_error"] == (error if known else "unrecognized")
    assert stored(shared_world.gateway) == before

    logged = [r for r in platform_logs if r.getMessage() == "lms answered with an error"]
    assert [r.fields["platform_error"] for r in logged] == [error, error]  # type: ignore[attr-defined]
    assert not any(part in json.dumps(r.fields) for r in logged for part in SPOOF_PARTS[1:])  # type: ignore[attr-defined]


def test_a_malformed_code_is_repeated_neither_on_the_page_nor_in_the_log(
    shared_world: LtiWorld, platform_logs: list[logging.LogRecord]
) -> None:
    browser = Browser()
    try:
        response = browser.post(f"{shared_world.gateway.url}/lti/launch", {"error": SPOOF})
    finally:
        browser.close()
    assert parse_page(response.text).error_code == "LTI_PLATFORM_ERROR"
    assert not any(part in response.text for part in SPOOF_PARTS)
    assert [r.fields["platform_error"] for r in platform_logs] == ["malformed"]  # type: ignore[attr-defined]
