"""The validator's pure steps: unverified parsing, header policy, times with leeway, audience and azp."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from gateway.errors import GatewayError
from gateway.lti.registrations import Registration
from gateway.lti.validator import VerifiedLaunch, check_audience, check_header, check_times, parse_unverified

REGISTRATION = Registration(
    id="reg_1", name="LMS", issuer="https://lms.example.com", client_id="client-1", lms="other",
    auth_login_url="https://lms.example.com/auth", auth_token_url="https://lms.example.com/token",
    auth_audience=None, jwks_url="https://lms.example.com/jwks", auto_activate_deployments=False, status="active",
)


def _segment(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _code(call: Any, *args: Any) -> str:
    with pytest.raises(GatewayError) as refused:
        call(*args)
    return refused.value.code


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("a.b", "LTI_ID_TOKEN_MALFORMED"),
        ("a.b.c.d", "LTI_ID_TOKEN_MALFORMED"),
        ("!!!.???.sig", "LTI_ID_TOKEN_MALFORMED"),
        (f"{_segment([1])}.{_segment({})}.sig", "LTI_ID_TOKEN_MALFORMED"),
        (f"{_segment({})}.{_segment({'name': 'x'})}.sig", "LTI_ID_TOKEN_NOT_LTI"),
        (f"{_segment({})}.{_segment({'iss': 'x'})}.sig", "LTI_ID_TOKEN_NOT_LTI"),
    ],
)
def test_unparseable_or_non_lti_tokens(token: str, code: str) -> None:
    assert _code(parse_unverified, token) == code


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ({}, "LTI_ID_TOKEN_UNSIGNED"),
        ({"alg": "none", "kid": "k"}, "LTI_ID_TOKEN_UNSIGNED"),
        ({"alg": "NONE", "kid": "k"}, "LTI_ID_TOKEN_UNSIGNED"),
        ({"alg": "HS256", "kid": "k"}, "LTI_ID_TOKEN_ALG_NOT_ALLOWED"),
        ({"alg": "RS512", "kid": "k"}, "LTI_ID_TOKEN_ALG_NOT_ALLOWED"),
        ({"alg": "ES256", "kid": "k"}, "LTI_ID_TOKEN_ALG_NOT_ALLOWED"),
        ({"alg": "RS256"}, "LTI_ID_TOKEN_KID_MISSING"),
        ({"alg": "RS256", "kid": ""}, "LTI_ID_TOKEN_KID_MISSING"),
    ],
)
def test_only_rs256_with_a_kid_is_allowed(header: dict[str, str], code: str) -> None:
    assert _code(check_header, header) == code


def test_rs256_with_kid_passes() -> None:
    assert check_header({"alg": "RS256", "kid": "k1", "typ": "JWT"}) == "k1"


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"exp": 1000}, "LTI_ID_TOKEN_TIMES_INVALID"),
        ({"iat": 1000}, "LTI_ID_TOKEN_TIMES_INVALID"),
        ({"iat": "1000", "exp": 2000}, "LTI_ID_TOKEN_TIMES_INVALID"),
        ({"iat": True, "exp": 2000}, "LTI_ID_TOKEN_TIMES_INVALID"),
        ({"iat": 900, "exp": 969}, "LTI_ID_TOKEN_EXPIRED"),
        ({"iat": 1031, "exp": 2000}, "LTI_ID_TOKEN_IAT_IN_FUTURE"),
        ({"iat": 1000, "exp": 2000, "nbf": 1031}, "LTI_ID_TOKEN_IAT_IN_FUTURE"),
    ],
)
def test_times_are_checked_with_the_leeway(claims: dict[str, Any], code: str) -> None:
    assert _code(check_times, claims, 30, 1000.0) == code


@pytest.mark.parametrize("claims", [{"iat": 1030, "exp": 971}, {"iat": 1000, "exp": 1001, "nbf": 1029}])
def test_times_at_the_edge_of_the_leeway_pass(claims: dict[str, Any]) -> None:
    check_times(claims, 30, 1000.0)


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"aud": "client-2"}, "LTI_AUD_MISMATCH"),
        ({"aud": "nobody"}, "LTI_CLIENT_ID_UNKNOWN"),
        ({"aud": []}, "LTI_CLIENT_ID_UNKNOWN"),
        ({"aud": ["client-1", "other"]}, "LTI_AZP_MISSING"),
        ({"aud": "client-1", "azp": "other"}, "LTI_AZP_MISMATCH"),
        ({"aud": ["client-1", "other"], "azp": "other"}, "LTI_AZP_MISMATCH"),
    ],
)
def test_audience_rules(claims: dict[str, Any], code: str) -> None:
    assert _code(check_audience, claims, REGISTRATION, {"client-1", "client-2"}) == code


@pytest.mark.parametrize("claims", [{"aud": "client-1"}, {"aud": ["client-1"]},
                                    {"aud": ["client-1", "x"], "azp": "client-1"}, {"aud": "client-1",
                                                                                    "azp": "client-1"}])
def test_audience_that_names_the_client(claims: dict[str, Any]) -> None:
    check_audience(claims, REGISTRATION, {"client-1"})


def test_only_the_validator_makes_a_verified_launch() -> None:
    with pytest.raises(TypeError):
        VerifiedLaunch(registration=REGISTRATION, deployment=None, deployment_id="d", message_type="m",
                       claims={}, state="s")
