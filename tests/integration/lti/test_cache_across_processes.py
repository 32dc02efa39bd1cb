"""The caches' bound holds across processes: a change made through one gateway reaches another within
``GATEWAY_CACHE_SECONDS``, as replicas on one database need.

Process A is a gateway in this test process; process B is a real ``gateway serve`` (gunicorn) on the same
database with the same public URL (a replica behind a load balancer), its caches warmed by launches before each
change. Each change is made through A only; B must act on it within its cache life (plus slack for polling and a
busy machine), and was serving from its cache before (the launches it answered read no registration).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

import gateway.lti.management as management
from sandbox.lms.platform import LaunchIntent
from tests.support.live import reserve_port
from tests.support.lti_flow import Launch, launch, on_replica
from tests.support.lti_sandbox import LtiWorld, lti_world
from tests.support.processes import REPO, process_env
from tests.support.waiting import ready, wait_until

CACHE_SECONDS = 2
SLACK_SECONDS = 8  # polling, gunicorn's thread pool and a loaded 2-core machine; the bound itself is CACHE_SECONDS


@pytest.fixture
def replicas(database_url: str, keys_dir: Path, tmp_path: Path) -> Iterator[tuple[LtiWorld, str]]:
    """Process A (in this test, with the simulated LMS registered) and the URL of replica B."""
    with lti_world(database_url, keys_dir) as world:
        port = reserve_port()
        env = process_env(database_url, keys_dir, cache_seconds=CACHE_SECONDS, public_base_url=world.gateway.url,
                          port=port)
        with (tmp_path / "replica.log").open("ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", "gateway", "serve", "--workers", "1", "--threads", "4"],
                                    cwd=REPO, env=env, stdout=log, stderr=log, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: ready(url), timeout=60, what="replica B to answer /readyz")
            yield world, url
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)



def _launch_on(world: LtiWorld, replica: str, intent: LaunchIntent | None = None) -> Launch:
    """Login and launch post, both answered by replica B (the platform's pages are the platform's)."""
    return launch(world.browser(), on_replica(replica, world.platform.prepare(intent)), post_to=replica)


def _within_bound(predicate: object, what: str) -> float:
    started = time.monotonic()
    wait_until(predicate, timeout=CACHE_SECONDS + SLACK_SECONDS, what=what, interval=0.1)  # type: ignore[arg-type]
    return time.monotonic() - started


def test_a_revoked_api_key_stops_working_on_the_other_replica(replicas: tuple[LtiWorld, str]) -> None:
    world, replica = replicas
    key = world.gateway.api_key("launches")
    code = _launch_on(world, replica).code
    assert code is not None
    launch_id = requests.post(replica + "/api/v1/launches/redeem", json={"code": code}, timeout=10,
                              headers={"Authorization": f"Bearer {key}"}).json()["id"]

    def read_status() -> int:
        return requests.get(f"{replica}/api/v1/launches/{launch_id}", timeout=10,
                            headers={"Authorization": f"Bearer {key}"}).status_code

    assert read_status() == 200
    world.gateway.services.api_keys.revoke(key.split(".")[0].removeprefix("gw_"))
    _within_bound(lambda: read_status() == 401, "the revoked key to be refused on replica B")


def test_a_disabled_registration_and_an_approved_deployment_reach_the_other_replica(
    replicas: tuple[LtiWorld, str],
) -> None:
    world, replica = replicas
    services = world.gateway.services
    registration = world.registration
    fresh = LaunchIntent(deployment_id="deployment-approved-on-a")

    # A new deployment: B records it pending and refuses; B then knows (caches) it as pending.
    assert _launch_on(world, replica, fresh).error_code == "LTI_DEPLOYMENT_UNKNOWN"
    assert _launch_on(world, replica, fresh).error_code == "LTI_DEPLOYMENT_PENDING"
    with services.db.transaction() as s:
        management.approve_by_platform_id(s, registration.id, fresh.deployment_id or "", actor="test")
    _within_bound(lambda: _launch_on(world, replica, fresh).code is not None,
                  "the deployment approved on A to launch on replica B")

    assert _launch_on(world, replica).code is not None  # B holds the registration as active
    with services.db.transaction() as s:
        management.set_registration_status(s, registration.id, "disabled", actor="test")
    _within_bound(lambda: _launch_on(world, replica).error_code == "LTI_REGISTRATION_DISABLED",
                  "the registration disabled on A to be refused on replica B")
