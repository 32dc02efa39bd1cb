"""A slow LMS cannot stall the gateway through Dynamic Registration (issue 17).

Before: an OpenID configuration served one byte every 4 s held a registration 66 s (the timeout was per read),
and 8 of them at once took every gunicorn thread, so /healthz and the API timed out. Now each call ends at its
deadline, and only GATEWAY_LTI_DYNAMIC_REGISTRATION_CONCURRENCY registrations run at once (others: LTI_DR_BUSY).
This runs the real ``gateway serve`` (gunicorn, 8 threads), as in production.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from tests.support.databases import DatabaseFactory
from tests.support.live import reserve_port
from tests.support.processes import REPO, process_env
from tests.support.slow_peer import SlowPeer
from tests.support.waiting import wait_until

pytestmark = pytest.mark.xdist_group(__name__)

INTERVAL = 0.25  # a byte every 0.25 s: no single read ever waits long
DEADLINE = 3.0  # so about 12 bytes get out per call; the whole answer is 480


def test_eight_dripping_registrations_end_at_the_deadline_and_healthz_keeps_answering(
    db_factory: DatabaseFactory, keys_dir: Path, tmp_path: Path
) -> None:
    peer = SlowPeer(interval=INTERVAL, total_bytes=400)
    port = reserve_port()
    runtime_dir = tmp_path / "run"
    runtime_dir.mkdir()
    env = process_env(db_factory.sqlite_url(), keys_dir, lti_dynamic_registration_timeout_seconds=DEADLINE,
                      rate_limit_lti_register="100/minute", public_base_url=f"http://127.0.0.1:{port}")
    env["XDG_RUNTIME_DIR"] = str(runtime_dir)
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "gateway", "serve", "--port", str(port), "--threads", "8"],
                              cwd=REPO, env=env, stdout=log, stderr=log, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(base + "/healthz"), timeout=30, what="gateway serve to start")
        answers: list[requests.Response] = []

        def register() -> None:
            answers.append(requests.get(f"{base}/lti/register", timeout=60, params={
                "openid_configuration": peer.url + "/.well-known/openid-configuration"}))

        callers = [threading.Thread(target=register) for _ in range(8)]
        for caller in callers:
            caller.start()
        wait_until(lambda: peer.open >= 2, what="two registrations to reach the slow LMS")
        health = requests.get(base + "/healthz", timeout=20)
        still_dripping = peer.open
        for caller in callers:
            caller.join(timeout=60)

        assert health.status_code == 200
        assert still_dripping >= 1  # /healthz answered while registrations were held by the slow LMS
        codes = sorted(a.status_code for a in answers)
        assert len(codes) == 8
        assert set(codes) <= {502, 503}, codes  # unreachable (cut off) or busy, never a hang or a 500
        busy = [a for a in answers if a.status_code == 503]
        assert busy and all("LTI_DR_BUSY" in a.text and a.headers["Retry-After"] for a in busy)
        wait_until(lambda: peer.open == 0, what="the slow LMS to see every hang-up")
        assert peer.connections == codes.count(502)
        # Each call was cut off near its deadline: a per-read timeout would have let all 480 bytes through.
        assert max(peer.sent) <= DEADLINE / INTERVAL + 8, peer.sent
        assert not list(runtime_dir.iterdir())  # no gunicorn control socket
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        peer.close()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:  # not listening yet, or too busy starting to answer: not yet
        return False
