"""Content items checked against the platform's settings; the response claims built with pylti1p3's DeepLink."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.errors import GatewayError
from gateway.lti import claims as c
from gateway.lti.config import LtiConfig
from gateway.lti.deep_linking import auto_post_form, check_items, response_claims

CONFIG = LtiConfig(public_base_url="https://gw.example.com", state_ttl_seconds=600, leeway_seconds=30,
                   max_id_token_bytes=65536, jwks_cache_seconds=3600, jwks_cooldown_seconds=30,
                   jwks_timeout_seconds=5, ags_timeout_seconds=30, dev=False)
SETTINGS = {"deep_link_return_url": "https://lms.example.com/return", "accept_types": ["ltiResourceLink", "link"],
            "accept_multiple": True, "accept_lineitem": None, "data": {"opaque": 1}}


def _code(body: dict[str, Any], settings: dict[str, Any] = SETTINGS) -> str:
    with pytest.raises(GatewayError) as refused:
        check_items(body, settings, CONFIG)
    return refused.value.code


def test_resource_link_may_name_the_gateway_launch_url_only() -> None:
    good = {"type": "ltiResourceLink", "url": "https://gw.example.com/lti/launch?activity=1"}
    assert check_items({"content_items": [good]}, SETTINGS, CONFIG) == [good]
    assert _code({"content_items": [{**good, "url": "https://other.example.com/lti/launch"}]}) == "VALIDATION_FAILED"


@pytest.mark.parametrize(
    "body",
    [{}, {"content_items": "x"}, {"content_items": [{"type": "ltiResourceLink"}] * 101},
     {"content_items": [{"type": "link", "url": "ftp://x"}]}, {"content_items": [{"type": "link", "url": 1}]},
     {"content_items": [{"type": "ltiResourceLink", "custom": {"a": 1}}]},
     {"content_items": [{"type": "ltiResourceLink", "lineItem": {"scoreMaximum": True}}]},
     {"content_items": [{"type": "ltiResourceLink", "title": 5}]}, {"content_items": ["item"]}],
    ids=["none", "not-list", "too-many", "ftp", "url-int", "custom-int", "max-bool", "title-int", "not-object"],
)
def test_malformed_items_fail_validation(body: dict[str, Any]) -> None:
    assert _code(body) == "VALIDATION_FAILED"


def test_line_item_absent_accept_lineitem_is_allowed_false_is_not() -> None:
    item = {"type": "ltiResourceLink", "lineItem": {"scoreMaximum": 10}}
    assert check_items({"content_items": [item]}, SETTINGS, CONFIG)
    refused = _code({"content_items": [item]}, {**SETTINGS, "accept_lineitem": False})
    assert refused == "LTI_DEEP_LINK_LINE_ITEM_NOT_ACCEPTED"


def test_response_claims_echo_data_and_carry_messages() -> None:
    claims = response_claims(issuer="https://lms.example.com", client_id="client-1", deployment_id="dep-1",
                             settings=SETTINGS, items=[{"type": "link", "url": "https://x"}],
                             messages={"message": "Done", "error_log": "", "log": "ok"})
    assert claims["iss"] == "client-1" and claims["aud"] == ["https://lms.example.com"]
    assert claims[c.DEPLOYMENT_ID] == "dep-1" and claims[c.MESSAGE_TYPE] == c.DEEP_LINKING_RESPONSE
    assert claims[c.DL_DATA] == {"opaque": 1} and claims[c.DL_MSG] == "Done" and claims[c.DL_LOG] == "ok"
    assert c.DL_ERRORLOG not in claims and claims["exp"] - claims["iat"] == 600
    without = response_claims(issuer="i", client_id="c", deployment_id="d", settings={**SETTINGS, "data": None},
                              items=[], messages={})
    assert c.DL_DATA not in without


def test_auto_post_form_escapes_what_it_embeds() -> None:
    html = auto_post_form('https://lms.example.com/return?a=1&b="2"', "header.payload.sig")
    assert 'action="https://lms.example.com/return?a=1&amp;b=&quot;2&quot;"' in html
    assert 'name="JWT" value="header.payload.sig"' in html
