"""The tool's self-description: the dynamic-registration tool configuration and Canvas's developer-key JSON."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.lti.config import LtiConfig
from gateway.lti.tool_config import ToolProfile, canvas_configuration, tool_configuration
from gateway.settings import SettingsError, load_settings
from sandbox.lms.registration import configuration_problems
from tests.support.dr_spec import AGS_SCOPES, NRPS_SCOPE, assert_valid_tool_configuration

BASE = "https://gateway.example.com"


def _profile(**overrides: Any) -> ToolProfile:
    settings = load_settings(environ={}, public_base_url=BASE, **overrides)
    return ToolProfile.from_settings(settings, LtiConfig.from_settings(settings))


def test_tool_configuration_has_every_member_the_spec_requires() -> None:
    config = tool_configuration(_profile(lti_tool_name="Fractions Lab"))
    assert_valid_tool_configuration(config, base_url=BASE)
    assert configuration_problems(config) == []  # and the simulated platform agrees
    assert config["client_name"] == "Fractions Lab"
    assert config["logo_uri"] == BASE + "/lti/logo.svg"
    lti = config["https://purl.imsglobal.org/spec/lti-tool-configuration"]
    deep_linking = next(m for m in lti["messages"] if m["type"] == "LtiDeepLinkingRequest")
    assert deep_linking["placements"] == ["link_selection", "assignment_selection"]
    assert lti["https://canvas.instructure.com/lti/privacy_level"] == "public"
    assert "custom_parameters" not in lti


def test_navigation_placements_add_a_resource_link_message_and_custom_parameters_pass_through() -> None:
    profile = _profile(lti_canvas_placements="link_selection,course_navigation",
                       lti_tool_custom_parameters='{"sis_id": "$Person.sourcedId"}',
                       lti_tool_logo_url="https://cdn.example.com/logo.png")
    lti = tool_configuration(profile)["https://purl.imsglobal.org/spec/lti-tool-configuration"]
    assert [(m["type"], m["placements"], m["icon_uri"]) for m in lti["messages"]] == [
        ("LtiDeepLinkingRequest", ["link_selection"], "https://cdn.example.com/logo.png"),
        ("LtiResourceLinkRequest", ["course_navigation"], "https://cdn.example.com/logo.png"),
    ]
    assert lti["custom_parameters"] == {"sis_id": "$Person.sourcedId"}


def test_canvas_json_is_a_developer_key_configuration() -> None:
    doc = canvas_configuration(_profile(lti_tool_name="Fractions Lab", lti_tool_custom_parameters='{"a": "b"}',
                                        lti_canvas_privacy_level="name_only"))
    assert doc["title"] == "Fractions Lab" and doc["description"]
    assert doc["oidc_initiation_url"] == BASE + "/lti/login"
    assert doc["target_link_uri"] == BASE + "/lti/launch"
    assert doc["public_jwk_url"] == BASE + "/.well-known/jwks.json"
    assert set(doc["scopes"]) == AGS_SCOPES | {NRPS_SCOPE}
    assert doc["custom_fields"] == {"a": "b"}
    (extension,) = doc["extensions"]
    assert extension["platform"] == "canvas.instructure.com" and extension["domain"] == "gateway.example.com"
    assert extension["privacy_level"] == "name_only" and extension["tool_id"] == "fractions-lab"
    placements = {p["placement"]: p for p in extension["settings"]["placements"]}
    assert set(placements) == {"link_selection", "assignment_selection"}
    for placement in placements.values():
        assert placement["message_type"] == "LtiDeepLinkingRequest"
        assert placement["target_link_uri"] == BASE + "/lti/launch"


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"lti_canvas_privacy_level": "everything"}, "GATEWAY_LTI_CANVAS_PRIVACY_LEVEL"),
        ({"lti_canvas_placements": "link_selection,sidebar"}, "GATEWAY_LTI_CANVAS_PLACEMENTS"),
        ({"lti_canvas_placements": " , "}, "GATEWAY_LTI_CANVAS_PLACEMENTS"),
        ({"lti_tool_custom_parameters": "sis_id=1"}, "GATEWAY_LTI_TOOL_CUSTOM_PARAMETERS"),
        ({"lti_tool_custom_parameters": '{"n": 1}'}, "GATEWAY_LTI_TOOL_CUSTOM_PARAMETERS"),
        ({"lti_tool_name": " "}, "GATEWAY_LTI_TOOL_NAME"),
        ({"lti_tool_logo_url": "logo.png"}, "GATEWAY_LTI_TOOL_LOGO_URL"),
    ],
)
def test_bad_settings_are_refused_by_name(overrides: dict[str, Any], setting: str) -> None:
    with pytest.raises(SettingsError) as refused:
        _profile(**overrides)
    assert refused.value.setting == setting
