"""Tool key rotation end to end: a platform that caches the gateway's JWKS keeps verifying its client assertions
(RFC 7523, signed by the writeback AGS client's token source) and deep-linking responses across ``gateway keys rotate``.

The timeline, on the key ring's clock (the rest runs in real time over loopback):

1. the platform fetches the JWKS and keeps it (it refetches only when its own cache lifetime ends, and never on
   an unknown ``kid``: the strictest platform);
2. ``gateway keys rotate`` (the CLI, another process's view of the same database and keys dir) publishes the
   next key; the gateway still signs with the old one, which the platform's cache holds;
3. the platform's cache lifetime (shorter than the publish delay) ends; it refetches, now holding both keys;
4. the publish delay passes: the serving gateway reads the new key file and switches; what it signs after the
   switch verifies against the JWKS the platform cached *before* the switch, with no new fetch;
5. through the grace period the old key stays published, so a token signed just before the switch still
   verifies after a refetch; after the grace period the old key has left the JWKS.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from gateway.app import create_app
from gateway.bootstrap import bootstrap
from gateway.cli import main
from gateway.keys import KeyRing, KeysServices
from gateway.keys.feature import KeysFeature
from gateway.lti import claims as c
from gateway.lti.ags_token import AgsTokens, TokenTarget
from gateway.lti.deep_linking import DeepLinkingService
from gateway.lti.feature import LtiFeature
from gateway.store.models.base import utcnow
from sandbox.lms import LaunchIntent
from sandbox.lms.ags import ASSERTION_TYPE
from tests.support.gateway import GatewayUnderTest, make_test_settings
from tests.support.live import LiveServer
from tests.support.lti_flow import launch
from tests.support.lti_sandbox import LtiWorld, connect, start_platform
from tests.support.openapi import attach

DELAY = dt.timedelta(hours=24)
GRACE = dt.timedelta(hours=24)
MINUTE = dt.timedelta(minutes=1)


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()  # the CLI in this test stamps the new key with the real time

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(sqlite_url: str, keys_dir: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Iterator[LtiWorld]:
    """A gateway whose key ring runs on ``clock``, and a platform registered with it; the CLI sees the same store."""
    server = LiveServer(lambda environ, start_response: None)
    settings = make_test_settings(sqlite_url, keys_dir, public_base_url=server.url,
                                  key_publish_delay_seconds=int(DELAY.total_seconds()),
                                  key_retire_grace_seconds=int(GRACE.total_seconds()))
    built = bootstrap(settings)
    # No key cache: the CLI below writes through its own store handle, and each step reads the JWKS at once.
    ring = KeyRing(built.db, keys_dir, publish_delay=DELAY, retire_grace=GRACE, clock=clock, cache_seconds=0)
    lti = dataclasses.replace(built.lti, deep_linking=DeepLinkingService(built.db, built.handoff, ring,
                                                                         built.lti.config))
    services = built.with_features(KeysFeature(KeysServices(settings, ring)), LtiFeature(lti))
    ring.generate()
    app = create_app(services=services)
    contract = attach(app)
    server.set_app(app)
    server.start()
    gateway = GatewayUnderTest(server=server, services=services, contract=contract)
    platform, platform_server = start_platform()
    made = LtiWorld(gateway, platform, platform_server, connect(gateway, platform))
    for name, value in (("GATEWAY_DATABASE_URL", sqlite_url), ("GATEWAY_KEYS_DIR", str(keys_dir)),
                        ("GATEWAY_ENV", "test"), ("GATEWAY_PUBLIC_BASE_URL", server.url)):
        monkeypatch.setenv(name, value)
    try:
        yield made
    finally:
        made.close()
    contract.assert_clean()


def _tokens(world: LtiWorld) -> AgsTokens:
    """The writeback AGS client's token source (a new one each time: it caches tokens for an hour)."""
    return AgsTokens(world.gateway.services.http, world.gateway.services.keyring, timeout=10)


def _target(world: LtiWorld) -> TokenTarget:
    registration = world.registration
    return TokenTarget(registration.id, registration.client_id, registration.auth_token_url,
                       registration.token_audience, (c.AGS_SCOPE_SCORE,))


def _grade_token(world: LtiWorld) -> str:
    """What writeback does before posting a grade: an RFC 7523 client assertion for an AGS token."""
    return _tokens(world).token(_target(world))


def _signing(world: LtiWorld) -> str:
    return world.gateway.services.keyring.signing_key().kid


def _token(world: LtiWorld, assertion: str) -> requests.Response:
    return requests.post(world.platform.token_url, timeout=10, data={
        "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion,
        "scope": c.AGS_SCOPE_SCORE})


def _kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def _published(world: LtiWorld) -> set[str]:
    return {k["kid"] for k in requests.get(world.gateway.url + "/.well-known/jwks.json", timeout=10).json()["keys"]}


def _fetches(world: LtiWorld) -> list[Any]:
    return [r.body["kids"] for r in world.platform.requests_of("tool_jwks")]


def test_a_platform_with_a_cached_jwks_verifies_across_a_rotation(world: LtiWorld, clock: Clock,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    platform = world.platform
    platform.cache_tool_jwks = True
    old = _signing(world)

    # A deep-linking launch now; the vendor answers it only after the switch.
    api = world.gateway.api("launches")
    code = launch(world.browser(), platform.prepare(LaunchIntent(message_type=c.DEEP_LINKING_REQUEST))).code
    record = api.post(f"{world.gateway.url}/api/v1/launches/redeem", json={"code": code}, timeout=10).json()

    # 1. The platform fetches and caches the JWKS at the first grade token request.
    assert _grade_token(world)
    assert _fetches(world) == [[old]]

    # 2. Rotation publishes the next key at once; signing stays with the old key, which the cache holds.
    assert main(["keys", "rotate"]) == 0
    new = capsys.readouterr().out.split("published next key ")[1].split(";")[0]
    assert _published(world) == {old, new}
    assert _signing(world) == old and _grade_token(world)
    assert len(_fetches(world)) == 1  # verified from the cache

    # 3. The platform's own cache lifetime ends within the publish delay: it refetches and holds both keys.
    clock.advance(DELAY / 2)
    platform.expire_tool_jwks()
    assert _grade_token(world)
    assert sorted(_fetches(world)[-1]) == sorted([old, new])
    signed_before_switch = _tokens(world).assertion(_target(world))  # sent only after the switch, below
    assert _kid(signed_before_switch) == old

    # 4. Past the publish delay the gateway switches; the platform verifies with the JWKS it cached before.
    clock.advance(DELAY / 2 + MINUTE)
    assert _signing(world) == new
    assert _grade_token(world)
    answer = api.post(world.gateway.url + record["deep_linking"]["response_url"], timeout=10, json={
        "content_items": [{"type": "ltiResourceLink", "title": "Fractions quiz"}]}).json()
    assert _kid(answer["jwt"]) == new
    returned = requests.post(answer["return_url"], data={"JWT": answer["jwt"]}, timeout=10)
    assert returned.status_code == 200, returned.text
    assert platform.deep_link_returns[-1]["items"] == [{"type": "ltiResourceLink", "title": "Fractions quiz"}]
    assert len(_fetches(world)) == 2  # no fetch since the switch

    # 5. Through the grace period the old key stays published: a token signed just before the switch verifies
    #    after a refetch, and the cache keeps verifying new signatures.
    clock.advance(GRACE - MINUTE)  # a minute before the grace period ends
    assert _published(world) == {old, new}
    assert _grade_token(world)
    platform.expire_tool_jwks()
    assert _token(world, signed_before_switch).status_code == 200
    assert sorted(_fetches(world)[-1]) == sorted([old, new])

    # After the grace period the old key has left the JWKS, and what it signed is no longer accepted.
    clock.advance(2 * MINUTE)  # a minute after
    assert _published(world) == {new}
    platform.expire_tool_jwks()
    assert _grade_token(world) and _fetches(world)[-1] == [new]
    refused = _token(world, signed_before_switch)
    assert refused.status_code == 401 and "kid is not in the tool's JWKS" in refused.json()["error_description"]
