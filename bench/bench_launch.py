"""Warm LTI launches against `gateway serve` in dev mode, with the sandbox LMS mounted beside it.

Times the whole browser round (login initiation, the platform's auth answer, the id_token post)
and the gateway's launch post alone, then reads /metrics to show how many outbound calls the
launches made: a warm launch makes none (the platform JWKS is fetched once and cached).
"""

from __future__ import annotations

import re
import time
from urllib.parse import urljoin

import requests

from bench.harness import Result, run
from bench.server import served_gateway
from tests.support.lti_flow import Browser, launch


def _one_launch(url: str, post_times: list[float]) -> None:
    browser = Browser()
    try:
        start = browser.get(f"{url}/sandbox/lms/start?user=student&message=resource")
        login_url = urljoin(url, start.headers["Location"])
        login = browser.get(login_url)
        auth = browser.get(urljoin(login_url, login.headers["Location"]))
        action = re.search(r'action="([^"]+)"', auth.text)
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', auth.text))
        if action is None:
            raise RuntimeError("the platform answered without a launch form")
        started = time.perf_counter()
        answer = browser.post(urljoin(url, action.group(1)), fields)
        post_times.append((time.perf_counter() - started) * 1000)
        if answer.status_code not in (302, 303) or "code=" not in answer.headers.get("Location", ""):
            raise RuntimeError(f"launch refused: {answer.status_code}")
    finally:
        browser.close()


def _outbound(url: str) -> str:
    metrics = requests.get(f"{url}/metrics", timeout=5).text
    lines = [line for line in metrics.splitlines() if line.startswith("gateway_outbound_responses_total{")]
    return "; ".join(lines) or "none"


def main(total: int = 300) -> list[Result]:
    with served_gateway(workers=1, threads=8) as gw:
        warm_up = Browser()
        launch(warm_up, urljoin(gw.url, Browser().get(f"{gw.url}/sandbox/lms/start?user=teacher").headers["Location"]))
        warm_up.close()
        before = _outbound(gw.url)
        serial_posts: list[float] = []
        serial = run("lti launch, 1 browser (round)", lambda _: _one_launch(gw.url, serial_posts), total=total // 3,
                     threads=1)
        posts: list[float] = []
        whole = run("lti launch, 4 browsers (round)", lambda _: _one_launch(gw.url, posts), total=total, threads=4)
        after = _outbound(gw.url)
    print(f"outbound calls before the timed launches: {before}")
    print(f"outbound calls after {total + total // 3} launches:     {after}")
    return [
        serial,
        Result("lti launch, 1 browser (post only)", len(serial_posts), serial.seconds, serial_posts),
        whole,
        Result("lti launch, 4 browsers (post only)", total, whole.seconds, posts),
    ]
