"""Real Chromium: an LMS page on one site (localhost) frames the gateway on another (127.0.0.1).

First with third-party cookies blocked and every Set-Cookie from the gateway dropped: the launch can only
complete through the platform's postMessage storage. Then the cookie path: the gateway's partitioned
``Secure; SameSite=None`` cookie carries the login across the frame's cross-site hops.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask, request
from playwright.sync_api import Page, Route

from tests.support.browser import chromium
from tests.support.live import LiveServer
from tests.support.lti_sandbox import LtiWorld, lti_world

pytestmark = pytest.mark.e2e


def _vendor_app(world_box: dict[str, Any]) -> Flask:
    """The vendor's landing page: redeems the code from its back end, greets the user."""
    app = Flask("vendor")

    @app.get("/launch")
    def landing() -> str:
        world: LtiWorld = world_box["world"]
        record = world.redeem(request.args["code"], key=world_box["key"]).json()
        return f'<p id="who">{record["user"]["name"]}</p><p id="role">{record["roles"]["simple"][0]}</p>'

    return app


@pytest.fixture
def world(sqlite_url: str, keys_dir: Path) -> Iterator[LtiWorld]:
    box: dict[str, Any] = {}
    vendor = LiveServer(_vendor_app(box)).start()
    try:
        with lti_world(sqlite_url, keys_dir, platform_name="localhost",
                       vendor_launch_url=vendor.url + "/launch") as made:
            box["world"], box["key"] = made, made.gateway.api_key("launches")
            yield made
    finally:
        vendor.stop()


def _tool_text(page: Page, selector: str) -> str:
    frame = page.frame(name="tool")
    assert frame is not None
    frame.wait_for_selector(selector, timeout=15_000)
    return frame.inner_text(selector)


def test_launch_completes_through_postmessage_storage_without_cookies(world: LtiWorld) -> None:
    gateway_origin = world.gateway.url
    dropped: list[str] = []

    def drop_cookies(route: Route) -> None:
        # Fetched outside the browser (route.fetch would store the cookie in the context's jar), then answered
        # without its Set-Cookie: the gateway's cookie never reaches the browser.
        sent = route.request
        upstream = requests.request(sent.method, sent.url, headers=sent.headers, data=sent.post_data_buffer,
                                    allow_redirects=False, timeout=10)
        headers = {k: v for k, v in upstream.headers.items()
                   if k.lower() not in ("set-cookie", "content-length", "content-encoding", "transfer-encoding")}
        if "set-cookie" in {k.lower() for k in upstream.headers}:
            dropped.append(sent.url)
        route.fulfill(status=upstream.status_code, headers=headers, body=upstream.content)

    with chromium(block_third_party_cookies=True) as browser:
        context = browser.new_context()
        context.route(f"{gateway_origin}/lti/**", drop_cookies)
        page = context.new_page()
        page.goto(f"{world.platform.base_url}/course?user=teacher&message=resource&storage=1")
        assert _tool_text(page, "#who") == "Tess Teacher"
        storage = page.frame(name="post_message_forwarding")
        assert storage is not None
        messages = storage.evaluate("window.ltiMessages")
        context.close()
    assert dropped, "the gateway tried to set its state cookie, and the test dropped it"
    subjects = [(m["origin"], m["subject"]) for m in messages]
    assert (gateway_origin, "lti.put_data") in subjects and (gateway_origin, "lti.get_data") in subjects


def test_launch_completes_with_the_partitioned_cookie(world: LtiWorld) -> None:
    with chromium(block_third_party_cookies=True) as browser:
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{world.platform.base_url}/course?user=student&message=resource")
        assert _tool_text(page, "#who") == "Sam Student"
        assert _tool_text(page, "#role") == "Learner"
        context.close()
