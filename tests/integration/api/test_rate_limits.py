"""Rate limits on public and credential-checking routes (issue 17): 429 with Retry-After, and nothing done.

Each limit is set low here through its setting; the counters are per client address (all tests come from
127.0.0.1) in the default in-memory storage, one gateway per test so counts never leak between tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from gateway.settings import SettingsError
from tests.support.databases import DatabaseFactory
from tests.support.gateway import GatewayUnderTest, make_test_settings, start_gateway

LOW = "2/minute"


@pytest.fixture
def limited(db_factory: DatabaseFactory, tmp_path: Path) -> Iterator[GatewayUnderTest]:
    with start_gateway(db_factory.sqlite_url(), tmp_path, rate_limit_lti_register=LOW, rate_limit_lti_launch=LOW,
                       rate_limit_clever=LOW, rate_limit_api_auth_failures=LOW, rate_limit_redeem_failures=LOW) as gw:
        yield gw


def _get(gw: GatewayUnderTest, path: str, **kwargs: Any) -> requests.Response:
    return requests.get(gw.url + path, timeout=10, allow_redirects=False, **kwargs)


def _is_page_429(response: requests.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["Content-Type"].startswith("text/html")
    assert 'id="error-code">RATE_LIMITED' in response.text
    assert 1 <= int(response.headers["Retry-After"]) <= 61


@pytest.mark.parametrize("path", ["/lti/register?openid_configuration=http://127.0.0.1:9/x", "/lti/login",
                                  "/clever/login", "/clever/callback"])
def test_public_browser_routes_answer_429_with_a_page_past_their_limit(limited: GatewayUnderTest,
                                                                       path: str) -> None:
    before = [_get(limited, path).status_code for _ in range(2)]
    assert 429 not in before
    _is_page_429(_get(limited, path))


def test_login_and_launch_share_one_limit(limited: GatewayUnderTest) -> None:
    assert _get(limited, "/lti/login").status_code != 429
    assert requests.post(limited.url + "/lti/launch", timeout=10).status_code != 429
    _is_page_429(_get(limited, "/lti/login"))


def test_registrations_past_the_limit_are_refused_in_json_when_asked(limited: GatewayUnderTest) -> None:
    for _ in range(2):
        _get(limited, "/lti/register?openid_configuration=http://127.0.0.1:9/x")
    refused = _get(limited, "/lti/register?openid_configuration=http://127.0.0.1:9/x",
                   headers={"Accept": "application/json"})
    assert refused.status_code == 429
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "RATE_LIMITED"


def test_failed_api_key_auth_is_limited_and_good_keys_are_not_counted(limited: GatewayUnderTest) -> None:
    good = limited.api("launches")
    for _ in range(5):
        assert good.get(limited.url + "/api/v1/whoami", timeout=10).status_code == 200  # successes cost nothing
    bad = {"Authorization": "Bearer not-a-key"}
    assert [_get(limited, "/api/v1/whoami", headers=bad).status_code for _ in range(2)] == [401, 401]
    refused = _get(limited, "/api/v1/whoami", headers=bad)
    assert refused.status_code == 429
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "RATE_LIMITED"
    assert int(refused.headers["Retry-After"]) >= 1


def test_failed_code_redemptions_are_limited(limited: GatewayUnderTest) -> None:
    session = limited.api("launches")
    codes = [session.post(limited.url + "/api/v1/launches/redeem", json={"code": f"nope-{i}"}, timeout=10)
             for i in range(3)]
    assert [r.status_code for r in codes[:2]] == [400, 400], codes[0].text  # HANDOFF_CODE_INVALID
    assert codes[2].status_code == 429
    assert codes[2].json()["code"] == "RATE_LIMITED"


def test_a_limit_that_is_not_a_rate_is_refused_at_start(tmp_path: Path) -> None:
    from gateway.api.limits import check_limit, check_storage

    settings = make_test_settings("sqlite://", tmp_path, rate_limit_clever="lots")
    with pytest.raises(SettingsError, match="GATEWAY_RATE_LIMIT_CLEVER"):
        check_limit(settings, "rate_limit_clever")
    with pytest.raises(SettingsError, match="GATEWAY_RATE_LIMIT_STORAGE_URI"):
        check_storage(make_test_settings("sqlite://", tmp_path, rate_limit_storage_uri="postgres://x"))


def test_replicas_sharing_redis_count_together(db_factory: DatabaseFactory, tmp_path: Path) -> None:
    """Two gateways (two replicas) on one Redis: the second refuses once the first used up the limit."""
    import redis

    store = "redis://127.0.0.1:6379/15"
    client = redis.Redis.from_url(store)
    for key in client.scan_iter("LIMITS:LIMITER/gateway/*"):  # a previous run's counters
        client.delete(key)
    url = db_factory.sqlite_url()
    replicas = [start_gateway(url, tmp_path / f"keys{n}", rate_limit_storage_uri=store, rate_limit_clever=LOW)
                for n in (1, 2)]
    try:
        first, second = replicas
        assert [_get(first, "/clever/login").status_code for _ in range(2)] != [429, 429]
        _is_page_429(_get(second, "/clever/login"))
    finally:
        for gw in replicas:
            gw.close()
        client.close()
