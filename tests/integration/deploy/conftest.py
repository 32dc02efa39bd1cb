"""The scale-out topology: one PostgreSQL, two ``gateway serve`` replicas behind a round-robin balancer, two
``gateway worker`` processes, the simulated LMS (slow on demand) and the simulated Clever.

The replicas share the balancer's URL as their public base URL, as replicas behind a load balancer do; each has
its own keys directory (a new signing key must be copied to every replica, as the README says). The test process
keeps a gateway of its own on the same database only to arrange data (API keys, the platform's registration).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
import requests

from sandbox.lms import create_lms_app
from tests.support.clever_sim import RunningClever, clever_settings, start_clever
from tests.support.databases import DatabaseFactory
from tests.support.gate import Gate
from tests.support.live import LiveServer, reserve_port
from tests.support.lti_sandbox import LtiWorld, lti_world
from tests.support.processes import process_env
from tests.support.round_robin import RoundRobin, start_round_robin
from tests.support.topology import Child, serve, wait_ready, worker

CACHE_SECONDS = 1  # GATEWAY_CACHE_SECONDS: the bound a change made through one replica reaches the other
PUBLISH_DELAY_SECONDS = 4  # GATEWAY_KEY_PUBLISH_DELAY_SECONDS, small so that the rotation completes in the test
GRACE_SECONDS = 1  # GATEWAY_SHUTDOWN_GRACE_SECONDS
AUTH_FAILURES_LIMIT = 17  # per hour: an amount no other test uses, so the shared Redis holds only ours
CLEVER_BUDGET = 20  # GATEWAY_CLEVER_RATE_LIMIT_PER_MINUTE for the pair
REDIS = "redis://127.0.0.1:6379/14"


@dataclass
class Topology:
    world: LtiWorld
    gate: Gate
    clever: RunningClever
    balancer: RoundRobin
    url: str  # the balancer: the public base URL of both replicas
    replica_urls: list[str]
    envs: list[dict[str, str]]  # each replica's (and its worker's) environment
    keys_dirs: list[Path]
    replicas: list[Child]
    workers: list[Child]
    children: list[Child] = field(default_factory=list)
    sessions: dict[tuple[str, ...], requests.Session] = field(default_factory=dict)  # API clients by scopes


def _clear_limits(store: str) -> None:
    client = redis.Redis.from_url(store)
    try:
        for key in client.scan_iter(f"*/{AUTH_FAILURES_LIMIT}/1/hour*"):  # a previous run's counters
            client.delete(key)
    finally:
        client.close()


def _env(database_url: str, keys_dir: Path, public: str, port: int, clever: RunningClever) -> dict[str, str]:
    settings: dict[str, Any] = {
        "cache_seconds": CACHE_SECONDS,
        "public_base_url": public,
        "port": port,
        "key_publish_delay_seconds": PUBLISH_DELAY_SECONDS,
        "shutdown_grace_seconds": GRACE_SECONDS,
        "rate_limit_storage_uri": REDIS,
        "rate_limit_api_auth_failures": f"{AUTH_FAILURES_LIMIT}/hour",
        "writeback_poll_seconds": 0.1,  # four pollers on a shared 2-core machine
        "writeback_lease_seconds": 2.0,
        "writeback_assignment_wait_seconds": 0.05,
        "writeback_ags_timeout_seconds": 30.0,  # longer than any hold at the gate
        "lti_jwks_timeout_seconds": 30.0,
        "lti_jwks_refetch_cooldown_seconds": 0.5,  # a platform key rotated mid-test is fetched at once
        "http_timeout_seconds": 30.0,
        **clever_settings(clever, clever_rate_limit_per_minute=CLEVER_BUDGET, clever_max_rate_limit_wait_seconds=0,
                          clever_max_retries=0),
    }
    return process_env(database_url, keys_dir, **settings)


@pytest.fixture
def topology(db_factory: DatabaseFactory, tmp_path: Path) -> Iterator[Topology]:
    database_url = db_factory.postgres_url()
    _clear_limits(REDIS)
    balancer_port = reserve_port()
    public = f"http://127.0.0.1:{balancer_port}"
    keys_dirs = [tmp_path / "keys-a", tmp_path / "keys-b"]
    for path in keys_dirs:
        path.mkdir()
    logs = tmp_path / "logs"
    logs.mkdir()
    clever = start_clever()
    children: list[Child] = []
    balancer_server: LiveServer | None = None
    try:
        with lti_world(database_url, keys_dirs[0], public_base_url=public) as world:
            gate = Gate(create_lms_app(world.platform))
            world.platform_server.set_app(gate)
            for pem in keys_dirs[0].glob("*.pem"):  # the first signing key, on every replica
                shutil.copy(pem, keys_dirs[1] / pem.name)
            ports = [reserve_port(), reserve_port()]
            envs = [_env(database_url, keys, public, port, clever) for keys, port in zip(keys_dirs, ports, strict=True)]
            replicas = [serve("replica-a", envs[0], logs), serve("replica-b", envs[1], logs)]
            children += replicas
            workers = [worker("worker-1", envs[0], logs), worker("worker-2", envs[1], logs)]
            children += workers
            urls = [f"http://127.0.0.1:{port}" for port in ports]
            for child, url in zip(replicas, urls, strict=True):
                wait_ready(child, url)
            balancer, balancer_server = start_round_robin(balancer_port, urls)
            yield Topology(world, gate, clever, balancer, public, urls, envs, keys_dirs, replicas, workers,
                           children)
            gate.release()
    finally:
        for child in children:
            child.stop()
        if balancer_server is not None:
            balancer_server.stop()
        clever.close()
