"""API authentication over real HTTP: 401 and 403 problems with stable codes."""

from __future__ import annotations

import pytest
import requests

from tests.support.gateway import GatewayUnderTest


def _problem(response: requests.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body: dict[str, object] = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["request_id"] == response.headers["X-Request-Id"]
    return body


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "UNAUTHENTICATED"),
        ("Basic dXNlcjpwYXNz", "UNAUTHENTICATED"),
        ("Bearer ", "UNAUTHENTICATED"),
        ("Bearer not-a-key", "INVALID_API_KEY"),
        ("Bearer gw_0123456789abcdef." + "A" * 43, "INVALID_API_KEY"),
    ],
)
def test_missing_or_bad_key_is_401(gateway: GatewayUnderTest, header: str | None, code: str) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = requests.get(f"{gateway.url}/api/v1/whoami", headers=headers, timeout=5)
    _problem(response, 401, code)
    assert "Bearer" in response.headers["WWW-Authenticate"]


def test_right_id_wrong_secret_is_401(gateway: GatewayUnderTest) -> None:
    key = gateway.api_key("launches")
    forged = key[: -4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    response = requests.get(f"{gateway.url}/api/v1/whoami", headers={"Authorization": f"Bearer {forged}"}, timeout=5)
    _problem(response, 401, "INVALID_API_KEY")


def test_valid_key_is_accepted(gateway: GatewayUnderTest) -> None:
    response = gateway.api("launches", "roster").get(f"{gateway.url}/api/v1/whoami", timeout=5)
    assert response.status_code == 200
    assert response.json()["scopes"] == ["launches", "roster"]


def test_revoked_key_is_401(gateway: GatewayUnderTest) -> None:
    info, key = gateway.services.api_keys.create("old-app", ["launches"])
    gateway.services.api_keys.revoke(info.id)
    response = requests.get(f"{gateway.url}/api/v1/whoami", headers={"Authorization": f"Bearer {key}"}, timeout=5)
    _problem(response, 401, "INVALID_API_KEY")


def test_missing_scope_is_403_naming_the_scope(gateway: GatewayUnderTest) -> None:
    api = gateway.api("roster")
    response = api.post(f"{gateway.url}/api/v1/launches/redeem", json={"code": "x" * 43}, timeout=5)
    body = _problem(response, 403, "INSUFFICIENT_SCOPE")
    assert body["required_scope"] == "launches"


def test_key_use_is_recorded(gateway: GatewayUnderTest) -> None:
    info, key = gateway.services.api_keys.create("app", ["launches"])
    requests.get(f"{gateway.url}/api/v1/whoami", headers={"Authorization": f"Bearer {key}"}, timeout=5)
    listed = {k.id: k for k in gateway.services.api_keys.list()}
    assert listed[info.id].last_used_at is not None
