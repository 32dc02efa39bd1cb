"""The claim rules (data in gateway.lti.claims) decide the refusal code from what is missing or malformed."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gateway.errors import GatewayError
from gateway.lti import claims as c
from gateway.lti.messages import check_message

BASE: dict[str, Any] = {
    "iss": "https://lms.example.com", "aud": "client", "sub": "user-1", "nonce": "n", "iat": 1, "exp": 2,
    c.VERSION: "1.3.0", c.MESSAGE_TYPE: c.RESOURCE_LINK_REQUEST, c.DEPLOYMENT_ID: "dep-1",
    c.TARGET_LINK_URI: "https://gw.example.com/lti/launch", c.ROLES: [c.MEMBERSHIP_ROLE + "Learner"],
    c.RESOURCE_LINK: {"id": "link-1"}, c.CONTEXT: {"id": "course-1"},
}
DL_SETTINGS = {"deep_link_return_url": "https://lms.example.com/return", "accept_types": ["ltiResourceLink"],
               "accept_presentation_document_targets": ["iframe"]}


def _code(claims: dict[str, Any]) -> str:
    with pytest.raises(GatewayError) as refused:
        check_message(claims)
    return refused.value.code


def _without(*names: str, **changes: Any) -> dict[str, Any]:
    claims = copy.deepcopy(BASE)
    for name in names:
        claims.pop(name)
    claims.update(changes)
    return claims


def test_a_complete_resource_link_launch_passes() -> None:
    assert check_message(copy.deepcopy(BASE)) == c.RESOURCE_LINK_REQUEST


@pytest.mark.parametrize(
    ("missing", "code"),
    [
        (c.VERSION, "LTI_VERSION_MISSING"), (c.MESSAGE_TYPE, "LTI_MESSAGE_TYPE_MISSING"),
        (c.DEPLOYMENT_ID, "LTI_DEPLOYMENT_ID_MISSING"), ("sub", "LTI_SUB_MISSING"), (c.ROLES, "LTI_ROLES_MISSING"),
        (c.TARGET_LINK_URI, "LTI_TARGET_LINK_URI_MISSING"), (c.RESOURCE_LINK, "LTI_RESOURCE_LINK_MISSING"),
    ],
)
def test_each_missing_claim_has_its_own_code(missing: str, code: str) -> None:
    assert _code(_without(missing)) == code


def test_a_resource_link_launch_without_a_context_passes() -> None:
    """LTI 1.3 Core makes ``context`` optional; certification lists the no-context launches as valid."""
    assert check_message(_without(c.CONTEXT)) == c.RESOURCE_LINK_REQUEST


def test_a_submission_review_still_needs_its_course() -> None:
    review = _without(c.CONTEXT, **{c.MESSAGE_TYPE: c.SUBMISSION_REVIEW_REQUEST, c.FOR_USER: {"user_id": "s"},
                                    c.AGS_ENDPOINT: {"lineitem": "https://lms/li/1"}})
    assert _code(review) == "LTI_CONTEXT_MISSING"


def test_several_missing_claims_are_listed_together() -> None:
    with pytest.raises(GatewayError) as refused:
        check_message(_without(c.MESSAGE_TYPE, c.ROLES, c.VERSION))
    assert refused.value.code == "LTI_CLAIMS_MISSING"
    assert set(refused.value.extra["missing_claims"]) == {c.MESSAGE_TYPE, c.ROLES, c.VERSION}


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({c.VERSION: "11.3"}, "LTI_VERSION_UNSUPPORTED"),
        ({c.MESSAGE_TYPE: "LtiStartProctoring"}, "LTI_MESSAGE_TYPE_UNSUPPORTED"),
        ({c.RESOURCE_LINK: {"title": "no id"}}, "LTI_RESOURCE_LINK_ID_MISSING"),
        ({c.ROLES: "Instructor"}, "LTI_CLAIM_INVALID"),
        ({c.ROLES: [1]}, "LTI_CLAIM_INVALID"),
        ({"sub": 42}, "LTI_CLAIM_INVALID"),
        ({"sub": "x" * 256}, "LTI_CLAIM_INVALID"),
        ({c.CONTEXT: "course-1"}, "LTI_CLAIM_INVALID"),
        ({c.CONTEXT: {"title": "no id"}}, "LTI_CLAIM_INVALID"),
        ({c.CONTEXT: {"id": ""}}, "LTI_CLAIM_INVALID"),
        ({c.CUSTOM: ["not", "an", "object"]}, "LTI_CLAIM_INVALID"),
        ({c.RESOURCE_LINK: {"id": "y" * 256}}, "LTI_CLAIM_INVALID"),
    ],
    ids=["version", "type", "link-id", "roles-str", "roles-int", "sub-int", "sub-long", "context-str",
         "context-no-id", "context-empty-id", "custom-list", "link-id-long"],
)
def test_wrong_values_and_shapes_are_refused(changes: dict[str, Any], code: str) -> None:
    assert _code(_without(**changes)) == code


@pytest.mark.parametrize("roles", [[], [""], ["Instructor"], ["urn:example:unknown"]])
def test_empty_short_and_unknown_roles_are_valid(roles: list[str]) -> None:
    assert check_message(_without(**{c.ROLES: roles})) == c.RESOURCE_LINK_REQUEST


def test_deep_linking_requires_its_settings() -> None:
    request = _without(c.RESOURCE_LINK, **{c.MESSAGE_TYPE: c.DEEP_LINKING_REQUEST})
    assert _code(request) == "LTI_DEEP_LINKING_SETTINGS_MISSING"
    assert check_message({**request, c.DL_SETTINGS: DL_SETTINGS}) == c.DEEP_LINKING_REQUEST
    for member in DL_SETTINGS:
        partial = {k: v for k, v in DL_SETTINGS.items() if k != member}
        assert _code({**request, c.DL_SETTINGS: partial}) == "LTI_CLAIM_INVALID"
    assert _code({**request, c.DL_SETTINGS: {**DL_SETTINGS, "accept_types": "link"}}) == "LTI_CLAIM_INVALID"


def test_submission_review_and_data_privacy_rules() -> None:
    review = _without(**{c.MESSAGE_TYPE: c.SUBMISSION_REVIEW_REQUEST})
    assert _code(review) == "LTI_CLAIMS_MISSING"  # for_user and the AGS endpoint
    review[c.FOR_USER] = {"user_id": "student-1"}
    assert _code(review) == "LTI_AGS_ENDPOINT_MISSING"
    review[c.AGS_ENDPOINT] = {"scope": [], "lineitems": "https://lms/li"}
    assert _code(review) == "LTI_AGS_ENDPOINT_MISSING"  # the reviewed line item is required
    review[c.AGS_ENDPOINT]["lineitem"] = "https://lms/li/1"
    assert check_message(review) == c.SUBMISSION_REVIEW_REQUEST
    privacy = _without(c.RESOURCE_LINK, c.CONTEXT, c.TARGET_LINK_URI, **{c.MESSAGE_TYPE: c.DATA_PRIVACY_REQUEST})
    assert _code(privacy) == "LTI_FOR_USER_MISSING"
    assert check_message({**privacy, c.FOR_USER: {"user_id": "u"}}) == c.DATA_PRIVACY_REQUEST


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "/relative/return", "ftp://lms/x"])
def test_a_deep_link_return_url_must_be_http_or_https(url: str) -> None:
    # Issue 17: the scheme was unchecked, and the gateway renders an auto-posting form to this URL.
    request = _without(c.RESOURCE_LINK, **{c.MESSAGE_TYPE: c.DEEP_LINKING_REQUEST})
    assert _code({**request, c.DL_SETTINGS: {**DL_SETTINGS, "deep_link_return_url": url}}) == "LTI_CLAIM_INVALID"
