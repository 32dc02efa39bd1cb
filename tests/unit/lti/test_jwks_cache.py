"""The platform key cache over real HTTP with a driven clock: warm hits, refetch on unknown kid, cooldown, staleness."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask, Response, jsonify

from gateway.errors import GatewayError
from gateway.http import HttpClient
from gateway.lti.jwks import PlatformKeys, parse_jwks
from gateway.lti.metrics import LtiMetrics
from gateway.ops.metrics import Metrics
from sandbox.lms.keys import PlatformKey
from tests.support.live import LiveServer

KEY_A, KEY_B = PlatformKey.generate(), PlatformKey.generate()


@dataclass
class Jwks:
    keys: list[dict[str, Any]] = field(default_factory=lambda: [KEY_A.public_jwk()])
    status: int = 200
    delay: float = 0.0
    hits: int = 0


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def jwks() -> Iterator[tuple[Jwks, str]]:
    state = Jwks()
    app = Flask("jwks")

    @app.get("/jwks")
    def serve() -> Any:
        state.hits += 1
        time.sleep(state.delay)
        if state.status != 200:
            return Response("down", status=state.status)
        return jsonify({"keys": state.keys})

    with LiveServer(app) as server:
        yield state, server.url + "/jwks"


def _cache(clock: Clock, *, timeout: float = 5.0) -> PlatformKeys:
    metrics = Metrics()
    return PlatformKeys(HttpClient(metrics, timeout=5.0), LtiMetrics(metrics), cache_seconds=3600,
                        cooldown_seconds=30, timeout_seconds=timeout, clock=clock)


def _code(call: Any, *args: Any) -> str:
    with pytest.raises(GatewayError) as refused:
        call(*args)
    return refused.value.code


def test_warm_cache_serves_without_fetching(jwks: tuple[Jwks, str]) -> None:
    state, url = jwks
    cache = _cache(Clock())
    assert cache.key(url, KEY_A.kid).key_id == KEY_A.kid
    assert cache.key(url, KEY_A.kid) is not None
    assert state.hits == 1


def test_unknown_kid_refetches_after_the_cooldown_only(jwks: tuple[Jwks, str]) -> None:
    state, url = jwks
    clock = Clock()
    cache = _cache(clock)
    cache.key(url, KEY_A.kid)
    state.keys = [KEY_A.public_jwk(), KEY_B.public_jwk()]  # the platform rotates in a new key
    assert _code(cache.key, url, KEY_B.kid) == "LTI_ID_TOKEN_KID_UNKNOWN"
    assert state.hits == 1  # inside the cooldown: no fetch
    clock.now += 31
    assert cache.key(url, KEY_B.kid).key_id == KEY_B.kid
    assert state.hits == 2


def test_expired_cache_refetches_and_serves_stale_keys_when_the_platform_is_down(jwks: tuple[Jwks, str]) -> None:
    state, url = jwks
    clock = Clock()
    cache = _cache(clock)
    cache.key(url, KEY_A.kid)
    clock.now += 3601
    state.status = 503
    assert cache.key(url, KEY_A.kid).key_id == KEY_A.kid  # stale but known: the class still starts
    assert state.hits == 2
    assert _code(cache.key, url, KEY_B.kid) == "LTI_ID_TOKEN_KID_UNKNOWN"
    assert state.hits == 2  # the failed attempt started a cooldown too


def test_cold_cache_with_the_platform_down_is_unavailable(jwks: tuple[Jwks, str]) -> None:
    state, url = jwks
    state.status = 500
    cache = _cache(Clock())
    assert _code(cache.key, url, KEY_A.kid) == "LTI_PLATFORM_JWKS_UNAVAILABLE"
    assert _code(cache.key, url, KEY_A.kid) == "LTI_PLATFORM_JWKS_UNAVAILABLE"
    assert state.hits == 1


def test_slow_jwks_times_out(jwks: tuple[Jwks, str]) -> None:
    state, url = jwks
    state.delay = 0.5
    assert _code(_cache(Clock(), timeout=0.1).key, url, KEY_A.kid) == "LTI_PLATFORM_JWKS_UNAVAILABLE"


def test_parse_keeps_only_rs256_signing_keys_with_a_kid() -> None:
    good = KEY_A.public_jwk()
    document = {"keys": [good, {**KEY_B.public_jwk(), "use": "enc"}, {**KEY_B.public_jwk(), "alg": "RS512"},
                         {k: v for k, v in KEY_B.public_jwk().items() if k != "kid"}, {"kty": "EC", "kid": "e"},
                         {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"}, "junk"]}
    assert list(parse_jwks(document)) == [KEY_A.kid]
    assert parse_jwks({"keys": "x"}) == {} and parse_jwks([]) == {}
