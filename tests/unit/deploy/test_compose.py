"""``compose.yaml`` is the deployment README "Deploy" describes: parsed (no container engine needed) and compared.

It checks the shape (PostgreSQL, a one-off migration the others wait for, two web replicas, a worker, a balancer
that watches ``/readyz``, Redis behind a profile), that every command is a real ``gateway`` command, that every
``GATEWAY_*`` variable it sets is a real setting named in the Deploy section, and that a replica's stop grace covers
its drain and its requests in flight.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.cli import build_parser
from gateway.serve import IN_FLIGHT_SECONDS
from gateway.settings import Settings

REPO = Path(__file__).resolve().parents[3]
SERVICES = {"postgres", "migrate", "web-1", "web-2", "worker", "balancer", "redis"}
WEB = ("web-1", "web-2")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "compose.yaml").read_text())
    return loaded


@pytest.fixture(scope="module")
def deploy_section() -> str:
    readme = (REPO / "README.md").read_text()
    match = re.search(r"^## Deploy\n(.*?)^## ", readme, re.S | re.M)
    assert match, "README has no '## Deploy' section"
    return match.group(1)


def _services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = compose["services"]
    return services


def _seconds(value: str) -> int:
    match = re.fullmatch(r"(\d+)s", value)
    assert match, value
    return int(match.group(1))


def test_the_services_are_those_the_readme_names(compose: dict[str, Any], deploy_section: str) -> None:
    services = _services(compose)
    assert set(services) == SERVICES
    for name in SERVICES:
        assert f"`{name}`" in deploy_section, f"README Deploy does not name the {name} service"
    assert services["redis"]["profiles"] == ["redis"]  # optional: only with --profile redis
    assert all("profiles" not in s for name, s in services.items() if name != "redis")


def test_the_gateway_services_run_one_image_with_real_commands(compose: dict[str, Any], deploy_section: str) -> None:
    services = _services(compose)
    parser = build_parser()
    expected = {"migrate": ["gateway", "db", "upgrade"], "worker": ["gateway", "worker"]}
    for name in ("migrate", "worker", *WEB):
        service = services[name]
        assert service["build"] == "." and service["image"] == services["migrate"]["image"]
        command = service["command"]
        if name in expected:
            assert command == expected[name]
        else:
            assert command[:2] == ["gateway", "serve"]
        parser.parse_args(command[1:])  # a real command line of `gateway` (argparse exits on anything else)
        assert f"`{' '.join(command)}`" in deploy_section, f"README Deploy does not show {name}'s command"


def test_migrations_run_once_before_replicas_and_workers(compose: dict[str, Any]) -> None:
    services = _services(compose)
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("worker", *WEB):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert "--migrate" not in services[name]["command"]


def test_every_setting_is_real_and_documented(compose: dict[str, Any], deploy_section: str) -> None:
    fields = {"GATEWAY_" + f.name.upper() for f in dataclasses.fields(Settings)}
    services = _services(compose)
    environments = [services[name]["environment"] for name in ("migrate", "worker", *WEB)]
    assert all(env == environments[0] for env in environments)  # one configuration for every process
    named = set(environments[0])
    assert named <= fields, f"not settings: {named - fields}"
    for name in named:
        assert f"`{name}`" in deploy_section, f"README Deploy does not explain {name}"
    env = environments[0]
    assert env["GATEWAY_ENV"] == "production" and env["GATEWAY_DATABASE_URL"].startswith("postgresql://")
    assert env["GATEWAY_WORKER_IN_PROCESS"] == "false"


def test_a_stopping_replica_has_time_to_drain_and_finish(compose: dict[str, Any]) -> None:
    services = _services(compose)
    for name in WEB:
        grace = float(services[name]["environment"]["GATEWAY_SHUTDOWN_GRACE_SECONDS"])
        assert _seconds(services[name]["stop_grace_period"]) >= grace + IN_FLIGHT_SECONDS


def test_the_balancer_sends_to_both_replicas_while_they_are_ready(compose: dict[str, Any]) -> None:
    caddyfile = compose["configs"]["caddyfile"]["content"]
    assert "reverse_proxy web-1:8000 web-2:8000" in caddyfile and "health_uri /readyz" in caddyfile
    assert set(_services(compose)["balancer"]["depends_on"]) == set(WEB)
