"""Headless Debian Chromium through Playwright, for the few real-browser tests. Never a downloaded browser."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
# Chromium's switch for the third-party-cookie phase-out: unpartitioned cookies in a cross-site frame are dropped.
BLOCK_THIRD_PARTY_COOKIES = "--test-third-party-cookie-phaseout"
# Responses a test rewrites (route.fulfill) carry no IP address, so Chromium files their pages under the public
# address space and its Local Network Access checks then block their navigation to the loopback platform. Every
# server here is on loopback anyway; the checks guard nothing in these tests.
NO_LOCAL_NETWORK_CHECKS = "--disable-features=LocalNetworkAccessChecks"


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{CHROMIUM} is missing and CI=true: install Debian's chromium (scripts/setup.sh --test)")
    pytest.skip(f"{CHROMIUM} is not installed")


@contextmanager
def chromium(*, block_third_party_cookies: bool = True) -> Iterator[Browser]:
    require_chromium()
    args = [*ARGS, NO_LOCAL_NETWORK_CHECKS] + ([BLOCK_THIRD_PARTY_COOKIES] if block_third_party_cookies else [])
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args, headless=True)
        try:
            yield browser
        finally:
            browser.close()
