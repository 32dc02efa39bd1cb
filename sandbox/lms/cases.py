"""Switches that make the simulated platform send each invalid launch the gateway must refuse.

The first twelve are the 1EdTech certification invalid cases (own fixtures, not copies; the suite's launch
without a course, is a valid launch: ``sandbox.lms.messages.VALID_VARIANTS``); the rest are the further attacks
and faults the gateway must meet with a clear refusal. ``forge`` applies a case to claims a platform built (the
simulated one here, or the third-party ``lti1p3platform`` in tests).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from gateway.lti import claims as c
from sandbox.lms.keys import PlatformKey, b64json, b64url

UNKNOWN_ISSUER = "https://unknown-lms.example.com"
UNKNOWN_CLIENT_ID = "client-nobody-registered"
OTHER_CLIENT_ID = "sandbox-other-client"  # tests register it on the same issuer for the aud-mismatch case
UNKNOWN_DEPLOYMENT = "deployment-nobody-approved"
UNKNOWN_KID = "imstester_66067"


class Case(StrEnum):
    VALID = "valid"
    # -- certification (invalid) --
    NO_KID = "no_kid"
    WRONG_KID = "wrong_kid"
    WRONG_VERSION = "wrong_version"
    NO_VERSION = "no_version"
    NOT_LTI = "not_lti"
    EXP_IAT_INVALID = "exp_iat_invalid"
    NO_MESSAGE_TYPE = "no_message_type"
    NO_ROLES = "no_roles"
    NO_DEPLOYMENT_ID = "no_deployment_id"
    NO_RESOURCE_LINK_ID = "no_resource_link_id"
    NO_SUB = "no_sub"
    SEVERAL_CLAIMS_MISSING = "several_claims_missing"
    # -- further refusals --
    BAD_SIGNATURE = "bad_signature"
    ALG_NONE = "alg_none"
    HS256_PUBLIC_KEY = "hs256_public_key"
    UNKNOWN_ISSUER = "unknown_issuer"
    UNKNOWN_CLIENT_ID = "unknown_client_id"
    UNKNOWN_DEPLOYMENT = "unknown_deployment"
    AUD_MISMATCH = "aud_mismatch"
    SEVERAL_AUD_NO_AZP = "several_aud_no_azp"
    AZP_MISMATCH = "azp_mismatch"
    EXPIRED = "expired"
    IAT_IN_FUTURE = "iat_in_future"
    OVERSIZED = "oversized"
    NO_NONCE = "no_nonce"
    WRONG_NONCE = "wrong_nonce"
    UNSUPPORTED_MESSAGE_TYPE = "unsupported_message_type"
    FOREIGN_TARGET_LINK_URI = "foreign_target_link_uri"
    MALFORMED = "malformed"
    LOGIN_REQUIRED = "login_required"  # the auth endpoint posts error=login_required instead of a token

    @property
    def certification(self) -> bool:
        return self in CERTIFICATION_INVALID


CERTIFICATION_INVALID = frozenset({
    Case.NO_KID, Case.WRONG_KID, Case.WRONG_VERSION, Case.NO_VERSION, Case.NOT_LTI, Case.EXP_IAT_INVALID,
    Case.NO_MESSAGE_TYPE, Case.NO_ROLES, Case.NO_DEPLOYMENT_ID, Case.NO_RESOURCE_LINK_ID, Case.NO_SUB,
    Case.SEVERAL_CLAIMS_MISSING,
})


def _drop(*names: str) -> Callable[[dict[str, Any]], None]:
    def apply(claims: dict[str, Any]) -> None:
        for name in names:
            claims.pop(name, None)

    return apply


def _set(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(claims: dict[str, Any]) -> None:
        claims[name] = value

    return apply


def _no_resource_link_id(claims: dict[str, Any]) -> None:
    link = dict(claims.get(c.RESOURCE_LINK) or {})
    link.pop("id", None)
    claims[c.RESOURCE_LINK] = link


def _exp_iat_invalid(claims: dict[str, Any]) -> None:
    claims["iat"], claims["exp"] = 11111, 22222


def _several_aud(claims: dict[str, Any]) -> None:
    claims["aud"] = [claims["aud"] if isinstance(claims["aud"], str) else claims["aud"][0], "another-audience"]
    claims.pop("azp", None)


def _client(client_id: str) -> Callable[[dict[str, Any]], None]:
    def apply(claims: dict[str, Any]) -> None:
        claims["aud"], claims["azp"] = client_id, client_id

    return apply


def _expired(claims: dict[str, Any]) -> None:
    now = int(time.time())
    claims["iat"], claims["exp"] = now - 900, now - 300


def _iat_in_future(claims: dict[str, Any]) -> None:
    now = int(time.time())
    claims["iat"], claims["exp"] = now + 600, now + 900


def _oversized(claims: dict[str, Any]) -> None:
    claims[c.CUSTOM] = {**(claims.get(c.CUSTOM) or {}), "padding": "x" * 80_000}


CLAIM_CHANGES: dict[Case, Callable[[dict[str, Any]], None]] = {
    Case.WRONG_VERSION: _set(c.VERSION, "11.3"),
    Case.NO_VERSION: _drop(c.VERSION),
    Case.EXP_IAT_INVALID: _exp_iat_invalid,
    Case.NO_MESSAGE_TYPE: _drop(c.MESSAGE_TYPE),
    Case.NO_ROLES: _drop(c.ROLES),
    Case.NO_DEPLOYMENT_ID: _drop(c.DEPLOYMENT_ID),
    Case.NO_RESOURCE_LINK_ID: _no_resource_link_id,
    Case.NO_SUB: _drop("sub"),
    Case.SEVERAL_CLAIMS_MISSING: _drop(c.MESSAGE_TYPE, c.ROLES, c.VERSION),
    Case.UNKNOWN_ISSUER: _set("iss", UNKNOWN_ISSUER),
    Case.UNKNOWN_CLIENT_ID: _client(UNKNOWN_CLIENT_ID),
    Case.UNKNOWN_DEPLOYMENT: _set(c.DEPLOYMENT_ID, UNKNOWN_DEPLOYMENT),
    Case.AUD_MISMATCH: _client(OTHER_CLIENT_ID),
    Case.SEVERAL_AUD_NO_AZP: _several_aud,
    Case.AZP_MISMATCH: _set("azp", "someone-else"),
    Case.EXPIRED: _expired,
    Case.IAT_IN_FUTURE: _iat_in_future,
    Case.OVERSIZED: _oversized,
    Case.NO_NONCE: _drop("nonce"),
    Case.WRONG_NONCE: _set("nonce", "a-nonce-this-login-never-made"),
    Case.UNSUPPORTED_MESSAGE_TYPE: _set(c.MESSAGE_TYPE, "LtiStartProctoring"),
    Case.FOREIGN_TARGET_LINK_URI: _set(c.TARGET_LINK_URI, "https://elsewhere.example.com/launch"),
}


def forge(case: Case, claims: dict[str, Any], key: PlatformKey, *, other_key: PlatformKey | None = None) -> str:
    """The id_token a platform with this fault would send, built from otherwise valid ``claims``."""
    claims = copy.deepcopy(claims)
    change = CLAIM_CHANGES.get(case)
    if change is not None:
        change(claims)
    if case is Case.NO_KID:
        return key.sign_with_header({"badtestonly": "12345", "alg": "RS256"}, claims)
    if case is Case.WRONG_KID:
        return key.sign_with_header({"alg": "RS256", "typ": "JWT", "kid": UNKNOWN_KID}, claims)
    if case is Case.NOT_LTI:
        return key.sign_with_header({}, {"name": "Not an LTI message"})
    if case is Case.BAD_SIGNATURE:
        impostor = other_key or PlatformKey.generate()
        return impostor.sign_with_header({"alg": "RS256", "typ": "JWT", "kid": key.kid}, claims)
    if case is Case.ALG_NONE:
        return f"{b64json({'alg': 'none', 'typ': 'JWT', 'kid': key.kid})}.{b64json(claims)}."
    if case is Case.HS256_PUBLIC_KEY:
        # The classic key-confusion attack: HMAC keyed with the platform's *public* key.
        signing_input = f"{b64json({'alg': 'HS256', 'typ': 'JWT', 'kid': key.kid})}.{b64json(claims)}"
        mac = hmac.new(key.public_pem().encode("ascii"), signing_input.encode("ascii"), hashlib.sha256).digest()
        return f"{signing_input}.{b64url(mac)}"
    if case is Case.MALFORMED:
        return "this-is.not-a-jwt"
    return key.sign(claims)
