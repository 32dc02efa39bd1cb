"""``read_roster`` of an LTI course comes from the launches' Names and Roles claim AND the registration's granted
scopes (issue 13, Deliver 2): each way it can be missing says so, and the members route follows what it says."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from gateway.lti import claims as c
from sandbox.lms.platform import LaunchIntent
from tests.support.gateway import start_gateway
from tests.support.lti_flow import Browser, launch
from tests.support.lti_sandbox import LtiWorld, lti_world, start_platform

AGS_ONLY = [c.AGS_SCOPE_LINEITEM, c.AGS_SCOPE_SCORE]


@pytest.fixture
def world(sqlite_url: str, keys_dir: Path) -> Iterator[LtiWorld]:
    with lti_world(sqlite_url, keys_dir) as made:
        yield made


def _launch(world: LtiWorld, intent: LaunchIntent | None = None) -> dict[str, Any]:
    result = launch(world.browser(), world.platform.prepare(intent))
    assert result.code, f"{result.final.status_code}: {result.error_code}"
    record: dict[str, Any] = world.redeem(result.code).json()
    return record


def _roster(world: LtiWorld, context_id: str) -> dict[str, Any]:
    api = world.gateway.api("writeback")
    capability: dict[str, Any] = api.get(f"{world.gateway.url}/api/v1/contexts/{context_id}",
                                         timeout=10).json()["capabilities"]["read_roster"]
    return capability


def _grant(world: LtiWorld, scopes: list[str] | None) -> None:
    answer = world.gateway.api("admin").patch(
        f"{world.gateway.url}/api/v1/admin/lti/registrations/{world.registration.id}",
        json={"granted_scopes": scopes}, timeout=10)
    assert answer.status_code == 200 and answer.json()["granted_scopes"] == scopes, answer.text


def _codes(capability: dict[str, Any]) -> list[str]:
    return [r["code"] for r in capability["reasons"]]


def test_the_claim_offers_it_and_the_registrations_scopes_must_grant_it(world: LtiWorld) -> None:
    record = _launch(world)
    context_id = record["context"]["id"]
    assert record["writeback"]["nrps"] is True  # scopes not known: the launch's claim decides
    assert _roster(world, context_id)["available"] is True

    _grant(world, AGS_ONLY)
    refused = _roster(world, context_id)
    assert refused["available"] is False and _codes(refused) == ["NRPS_SCOPE_NOT_GRANTED"]
    members = world.gateway.api("roster").get(f"{world.gateway.url}/api/v1/contexts/{context_id}/members",
                                              timeout=10)
    assert (members.status_code, members.json()["code"]) == (409, "CAPABILITY_UNAVAILABLE")
    assert world.platform.requests_of("nrps") == []  # refused before asking the LMS
    assert _launch(world)["writeback"]["nrps"] is False

    _grant(world, [*AGS_ONLY, c.NRPS_SCOPE])
    assert _roster(world, context_id)["available"] is True
    assert _launch(world)["writeback"]["nrps"] is True


def test_granted_scopes_alone_do_not_make_a_roster_without_a_launch_offering_it(world: LtiWorld) -> None:
    _grant(world, [c.NRPS_SCOPE])
    record = _launch(world, LaunchIntent(nrps=False))
    assert record["writeback"]["nrps"] is False
    capability = _roster(world, record["context"]["id"])
    assert capability["available"] is False and _codes(capability) == ["NRPS_NOT_GRANTED"]
    _grant(world, AGS_ONLY)
    assert _codes(_roster(world, record["context"]["id"])) == ["NRPS_NOT_GRANTED", "NRPS_SCOPE_NOT_GRANTED"]


def test_dynamic_registration_keeps_the_scopes_the_platform_granted(sqlite_url: str, keys_dir: Path) -> None:
    gateway = start_gateway(sqlite_url, keys_dir, lti_dynamic_registration="active")
    platform, server = start_platform()
    platform.granted_scope = " ".join(AGS_ONLY)
    browser = Browser()
    try:
        page = requests.get(platform.start_registration(gateway.url + "/lti/register"), timeout=15)
        assert page.status_code == 200, page.text
        admin = gateway.api("admin")
        (registration,) = admin.get(f"{gateway.url}/api/v1/admin/lti/registrations", timeout=10).json()["data"]
        assert registration["granted_scopes"] == sorted(AGS_ONLY)
        result = launch(browser, platform.prepare())
        assert result.code
        record = gateway.api("launches").post(f"{gateway.url}/api/v1/launches/redeem", json={"code": result.code},
                                              timeout=10).json()
        assert record["writeback"]["nrps"] is False
        capability = gateway.api("writeback").get(f"{gateway.url}/api/v1/contexts/{record['context']['id']}",
                                                  timeout=10).json()["capabilities"]["read_roster"]
        assert _codes(capability) == ["NRPS_SCOPE_NOT_GRANTED"]
    finally:
        browser.close()
        server.stop()
        gateway.close()
    gateway.contract.assert_clean()
