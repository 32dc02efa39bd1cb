"""The platform JWKS over real HTTP: fetched once and cached, refetched on rotation, refused clearly when down."""

from __future__ import annotations

from pathlib import Path

from sandbox.lms import LaunchIntent
from sandbox.lms.cases import Case
from tests.support.lti_flow import launch
from tests.support.lti_sandbox import LtiWorld, lti_world, stored


def _jwks_fetches(world: LtiWorld) -> int:
    return len(world.platform.requests_of("jwks"))


def test_warm_launch_makes_no_outbound_call(world: LtiWorld) -> None:
    assert launch(world.browser(), world.platform.prepare()).code
    assert _jwks_fetches(world) == 1
    outbound = world.gateway.services.metrics.outbound_responses.labels(system="lti_jwks", status="200")
    calls = outbound._value.get()
    assert launch(world.browser(), world.platform.prepare()).code
    assert _jwks_fetches(world) == 1
    assert outbound._value.get() == calls


def test_rotated_platform_key_is_fetched_on_its_unknown_kid(sqlite_url: str, keys_dir: Path) -> None:
    with lti_world(sqlite_url, keys_dir, lti_jwks_refetch_cooldown_seconds=0) as world:
        assert launch(world.browser(), world.platform.prepare()).code
        world.platform.rotate_key()
        assert launch(world.browser(), world.platform.prepare()).code
        assert _jwks_fetches(world) == 2


def test_forged_kids_cause_no_fetch_within_the_cooldown(world: LtiWorld) -> None:
    assert launch(world.browser(), world.platform.prepare()).code
    for _ in range(3):
        refused = launch(world.browser(), world.platform.prepare(LaunchIntent(case=Case.WRONG_KID)))
        assert refused.error_code == "LTI_ID_TOKEN_KID_UNKNOWN"
    assert _jwks_fetches(world) == 1  # a stream of unknown kids cannot turn the gateway against the platform


def test_jwks_down_on_a_cold_cache_is_a_502_and_stores_nothing(world: LtiWorld) -> None:
    world.platform.fail_next("/jwks", 503)
    before = stored(world.gateway)
    refused = launch(world.browser(), world.platform.prepare())
    assert (refused.final.status_code, refused.error_code) == (502, "LTI_PLATFORM_JWKS_UNAVAILABLE")
    assert stored(world.gateway) == before
