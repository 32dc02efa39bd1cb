"""The postMessage storage check (lti-pm-s): what the launch accepts from the check page's second post.

The framed browser keeps no cookie of the gateway's, so the launch post gets the ``lti.get_data`` check page,
whose script posts the launch again with ``lti_storage_check`` = ``ok`` | ``mismatch`` | ``unavailable``. Only
an ``ok`` posted by the gateway's own page (its Origin, or ``Sec-Fetch-Site: same-origin`` where a browser sends
no Origin) completes the launch; a forged ``ok``, a storage holding another state and a storage that did not
answer are refused with the new-window way out, and nothing is stored.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from sandbox.lms import LaunchIntent
from tests.support.lti_flow import Browser, Launch, parse_page, storage_launch
from tests.support.lti_sandbox import LtiWorld, stored

FRAME = "post_message_forwarding"


def _framed(world: LtiWorld) -> tuple[Browser, Launch]:
    """A framed browser whose third-party cookies are blocked, stopped at the gateway's check page."""
    browser = world.browser()
    browser.block_cookies_from.add(urlsplit(world.gateway.url).netloc)
    started = storage_launch(browser, world.platform.prepare(LaunchIntent(storage_target=FRAME)))
    assert started.response is not None and started.response.status_code == 200, started.final.text[:300]
    assert "lti.get_data" in started.response.text
    assert started.form_fields["lti_storage_check"] == "unavailable"  # what the page posts unless storage answers
    assert started.form_fields["lti_storage_target"] == FRAME
    return browser, started


def _post_check(world: LtiWorld, browser: Browser, started: Launch, check: str,
                headers: dict[str, str]) -> tuple[int, str | None, dict[str, str], str]:
    fields = {**started.form_fields, "lti_storage_check": check}
    response = browser.post(f"{world.gateway.url}/lti/launch", fields, headers=headers)
    page = parse_page(response.text)
    return response.status_code, page.error_code, page.links, response.headers.get("Location", "")


def _origin(world: LtiWorld) -> str:
    return world.gateway.services.lti.config.origin


@pytest.mark.parametrize(
    ("check", "sender", "code"),
    [
        ("ok", "no-origin", "LTI_STATE_MISMATCH"),
        ("ok", "platform-origin", "LTI_STATE_MISMATCH"),
        ("ok", "null-origin", "LTI_STATE_MISMATCH"),
        ("ok", "cross-site-fetch", "LTI_STATE_MISMATCH"),
        ("mismatch", "gateway-origin", "LTI_STATE_MISMATCH"),
        ("unavailable", "gateway-origin", "LTI_STATE_STORAGE_UNAVAILABLE"),
        ("something-else", "gateway-origin", "LTI_STATE_STORAGE_UNAVAILABLE"),
    ],
    ids=["forged-ok-no-origin", "forged-ok-platform-origin", "forged-ok-null-origin", "forged-ok-cross-site",
         "mismatch", "unavailable", "unknown-answer"],
)
def test_storage_check_refusals_offer_a_new_window_and_store_nothing(
    world: LtiWorld, check: str, sender: str, code: str
) -> None:
    headers = {
        "no-origin": {},
        "platform-origin": {"Origin": world.platform.base_url},
        "null-origin": {"Origin": "null"},
        "cross-site-fetch": {"Sec-Fetch-Site": "cross-site"},
        "gateway-origin": {"Origin": _origin(world)},
    }[sender]
    browser, started = _framed(world)
    before = stored(world.gateway)

    status, error_code, links, location = _post_check(world, browser, started, check, headers)

    assert (status, error_code) == (400, code)
    assert not location
    retry = links["open-new-window"].replace("&amp;", "&")
    login_url = world.gateway.services.lti.config.login_url
    assert retry.startswith(login_url + "?") and "lti_storage_target" not in retry  # top-level: the cookie path
    assert stored(world.gateway) == before
    # The way out works: the link starts a fresh login, top-level, where the gateway's cookie is first-party.
    assert world.browser().get(retry).status_code == 302


@pytest.mark.parametrize("sender", ["gateway-origin", "same-origin-fetch"])
def test_ok_from_the_gateways_own_page_completes_the_launch(world: LtiWorld, sender: str) -> None:
    headers = {"Origin": _origin(world)} if sender == "gateway-origin" else {"Sec-Fetch-Site": "same-origin"}
    browser, started = _framed(world)
    before = stored(world.gateway)

    status, error_code, _, location = _post_check(world, browser, started, "ok", headers)

    assert (status, error_code) == (303, None)
    assert location.startswith(world.gateway.services.settings.vendor_launch_url + "?code=")
    assert stored(world.gateway)["launches"] == before["launches"] + 1
