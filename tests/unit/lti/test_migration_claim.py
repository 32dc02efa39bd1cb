"""The LTI 1.1 migration claim's signature, checked against the spec's own example and every way it fails."""

from __future__ import annotations

from typing import Any

import pytest

import gateway.lti.claims as c
from gateway.lti.migration import (
    BAD_SIGNATURE,
    MALFORMED,
    NO_SECRET,
    SECRET_UNREADABLE,
    UNSIGNED,
    VERIFIED,
    Lti1p1Identity,
    check_claim,
    sign,
    signature_base,
)

# The worked example of LTI 1.3 Core's "LTI 1.1 migration claim" (also in Canvas's and Tsugi's test suites).
SPEC_SECRET = "my-lti11-secret"
SPEC_SIGN = "lWd54kFo5qU7xshAna6v8BwoBm6tmUjc6GTax6+12ps="


def spec_claims(**claim: Any) -> dict[str, Any]:
    return {
        "nonce": "172we8671fd8z", "iat": 1551290796, "exp": 1551290856, "iss": "https://lmsvendor.com",
        "aud": "PM48OJSfGDTAzAo", "sub": "3", c.DEPLOYMENT_ID: "689302",
        c.LTI1P1: {"user_id": "34212", "oauth_consumer_key": "179248902", "oauth_consumer_key_sign": SPEC_SIGN,
                   **claim},
    }


def test_the_spec_example_signs_and_verifies() -> None:
    base = signature_base(oauth_consumer_key="179248902", deployment_id="689302", issuer="https://lmsvendor.com",
                          client_id="PM48OJSfGDTAzAo", exp="1551290856", nonce="172we8671fd8z")
    assert base == "179248902&689302&https://lmsvendor.com&PM48OJSfGDTAzAo&1551290856&172we8671fd8z"
    assert sign(base, SPEC_SECRET) == SPEC_SIGN
    check = check_claim(spec_claims(), client_id="PM48OJSfGDTAzAo", secret=SPEC_SECRET)
    assert check is not None and check.outcome == VERIFIED
    assert check.identity == Lti1p1Identity("179248902", "34212")


def test_no_claim_is_no_check() -> None:
    claims = spec_claims()
    del claims[c.LTI1P1]
    assert check_claim(claims, client_id="PM48OJSfGDTAzAo", secret=SPEC_SECRET) is None


def test_without_user_id_the_lti11_id_is_sub() -> None:
    claims = spec_claims()
    del claims[c.LTI1P1]["user_id"]
    check = check_claim(claims, client_id="PM48OJSfGDTAzAo", secret=SPEC_SECRET)
    assert check is not None and check.identity == Lti1p1Identity("179248902", "3")


@pytest.mark.parametrize(("change", "secret", "outcome"), [
    ({"oauth_consumer_key_sign": None}, SPEC_SECRET, UNSIGNED),
    ({"oauth_consumer_key_sign": ""}, SPEC_SECRET, UNSIGNED),
    ({}, None, NO_SECRET),
    ({}, "another-secret", BAD_SIGNATURE),
    ({"oauth_consumer_key_sign": "not base64!"}, SPEC_SECRET, BAD_SIGNATURE),
    ({"oauth_consumer_key": "another-key"}, SPEC_SECRET, BAD_SIGNATURE),  # the key is part of what is signed
    ({"oauth_consumer_key": None}, SPEC_SECRET, MALFORMED),
    ({"oauth_consumer_key": 179248902}, SPEC_SECRET, MALFORMED),
    ({"user_id": "x" * 256}, SPEC_SECRET, MALFORMED),
])
def test_a_claim_that_does_not_verify_is_not_trusted(change: dict[str, Any], secret: str | None,
                                                     outcome: str) -> None:
    claims = spec_claims(**change)
    claims[c.LTI1P1] = {k: v for k, v in claims[c.LTI1P1].items() if v is not None}
    check = check_claim(claims, client_id="PM48OJSfGDTAzAo", secret=secret)
    assert check is not None and (check.outcome, check.identity) == (outcome, None)


@pytest.mark.parametrize("field", ["exp", "nonce", "iss", c.DEPLOYMENT_ID])
def test_every_signed_value_of_the_token_counts(field: str) -> None:
    claims = spec_claims()
    claims[field] = claims[field] + 1 if field == "exp" else claims[field] + "x"
    check = check_claim(claims, client_id="PM48OJSfGDTAzAo", secret=SPEC_SECRET)
    assert check is not None and check.outcome == BAD_SIGNATURE


def test_the_client_id_signed_is_the_registrations() -> None:
    check = check_claim(spec_claims(), client_id="another-client", secret=SPEC_SECRET)
    assert check is not None and check.outcome == BAD_SIGNATURE


def test_a_claim_that_is_no_object_and_an_unreadable_secret() -> None:
    claims = spec_claims()
    claims[c.LTI1P1] = "179248902"
    malformed = check_claim(claims, client_id="PM48OJSfGDTAzAo", secret=SPEC_SECRET)
    assert malformed is not None and malformed.outcome == MALFORMED
    unreadable = check_claim(spec_claims(), client_id="PM48OJSfGDTAzAo", secret=None, secret_unreadable=True)
    assert unreadable is not None and unreadable.outcome == SECRET_UNREADABLE
