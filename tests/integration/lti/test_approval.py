"""A pending deployment's launches are refused with their code until an administrator approves it, over the
admin API or the CLI; disabling a deployment or a registration refuses its launches again."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main
from sandbox.lms import LaunchIntent
from tests.support.lti_flow import launch
from tests.support.lti_sandbox import LtiWorld, stored

DISTRICT = "district-42-install"


def _launch(world: LtiWorld, deployment_id: str = DISTRICT) -> tuple[str | None, str | None]:
    result = launch(world.browser(), world.platform.prepare(LaunchIntent(deployment_id=deployment_id)))
    return result.code, result.error_code


def test_a_new_deployment_waits_for_approval_over_the_api(world: LtiWorld) -> None:
    admin = world.gateway.api("admin")
    base = f"{world.gateway.url}/api/v1/admin/lti"
    assert _launch(world) == (None, "LTI_DEPLOYMENT_UNKNOWN")
    pending = admin.get(f"{base}/deployments", params={"status": "pending"}, timeout=10).json()["data"]
    assert [(d["deployment_id"], d["registration_id"]) for d in pending] == [(DISTRICT, world.registration.id)]

    before = stored(world.gateway)
    assert _launch(world) == (None, "LTI_DEPLOYMENT_PENDING")
    assert stored(world.gateway) == before  # a refusal stores nothing

    approved = admin.post(f"{base}/deployments/{pending[0]['id']}/approve", timeout=10)
    assert approved.status_code == 200 and approved.json()["status"] == "active"
    code, error = _launch(world)
    assert code and error is None
    assert world.redeem(code).json()["lti"]["deployment_id"] == DISTRICT

    admin.post(f"{base}/deployments/{pending[0]['id']}/disable", timeout=10).raise_for_status()
    assert _launch(world) == (None, "LTI_DEPLOYMENT_DISABLED")


def test_a_disabled_registration_refuses_logins_until_enabled(world: LtiWorld) -> None:
    admin = world.gateway.api("admin")
    url = f"{world.gateway.url}/api/v1/admin/lti/registrations/{world.registration.id}"
    admin.post(url + "/disable", timeout=10).raise_for_status()
    result = launch(world.browser(), world.platform.prepare())
    assert (result.final.status_code, result.error_code) == (403, "LTI_REGISTRATION_DISABLED")
    admin.post(url + "/enable", timeout=10).raise_for_status()
    assert launch(world.browser(), world.platform.prepare()).code


@pytest.fixture
def cli_env(world: LtiWorld, monkeypatch: pytest.MonkeyPatch) -> LtiWorld:
    settings = world.gateway.services.settings
    monkeypatch.setenv("GATEWAY_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(Path(settings.keys_dir)))
    monkeypatch.setenv("GATEWAY_ENV", "test")
    return world


def test_the_cli_approves_a_deployment_before_its_first_launch(cli_env: LtiWorld,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    world = cli_env
    assert main(["deployments", "approve", "--registration", world.registration.id, "--deployment-id", DISTRICT]) == 0
    assert DISTRICT in capsys.readouterr().out
    assert _launch(world)[0]  # accepted at its first launch


def test_the_cli_approves_a_pending_deployment(cli_env: LtiWorld, capsys: pytest.CaptureFixture[str]) -> None:
    world = cli_env
    assert _launch(world) == (None, "LTI_DEPLOYMENT_UNKNOWN")
    assert main(["deployments", "list", "--status", "pending", "--json"]) == 0
    (pending,) = __import__("json").loads(capsys.readouterr().out)
    assert main(["deployments", "approve", pending["id"]]) == 0
    assert "active" in capsys.readouterr().out
    assert _launch(world)[0]
