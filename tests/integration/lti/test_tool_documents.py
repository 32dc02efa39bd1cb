"""``/lti/canvas.json`` and ``/lti/tool-configuration.json``, served from settings, and the URLs in them live."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.dr_spec import AGS_SCOPES, NRPS_SCOPE, assert_valid_tool_configuration
from tests.support.gateway import GatewayUnderTest, start_gateway


@pytest.fixture
def configured(sqlite_url: str, keys_dir: Path) -> Iterator[GatewayUnderTest]:
    gateway = start_gateway(
        sqlite_url, keys_dir, lti_tool_name="Fractions Lab", lti_tool_description="Practice fractions.",
        lti_tool_custom_parameters='{"sis_id": "$Person.sourcedId"}',
        lti_canvas_placements="link_selection,assignment_selection,course_navigation",
    )
    try:
        yield gateway
    finally:
        gateway.close()


def test_canvas_json(configured: GatewayUnderTest) -> None:
    response = requests.get(configured.url + "/lti/canvas.json", timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    assert "max-age" in response.headers["Cache-Control"]
    doc = response.json()
    assert (doc["title"], doc["description"]) == ("Fractions Lab", "Practice fractions.")
    assert doc["oidc_initiation_url"] == configured.url + "/lti/login"
    assert doc["target_link_uri"] == configured.url + "/lti/launch"
    assert set(doc["scopes"]) == AGS_SCOPES | {NRPS_SCOPE}
    assert doc["custom_fields"] == {"sis_id": "$Person.sourcedId"}
    (extension,) = doc["extensions"]
    assert extension["privacy_level"] == "public" and extension["platform"] == "canvas.instructure.com"
    placements = {p["placement"]: p["message_type"] for p in extension["settings"]["placements"]}
    assert placements == {"link_selection": "LtiDeepLinkingRequest", "assignment_selection": "LtiDeepLinkingRequest",
                          "course_navigation": "LtiResourceLinkRequest"}
    # What Canvas fetches next: the gateway's public keys, and the icon.
    jwks = requests.get(doc["public_jwk_url"], timeout=10).json()
    assert jwks["keys"] and all(k["alg"] == "RS256" for k in jwks["keys"])
    icon = requests.get(extension["settings"]["icon_url"], timeout=10)
    assert icon.status_code == 200 and icon.headers["Content-Type"].startswith("image/svg+xml")


def test_generic_tool_configuration(configured: GatewayUnderTest) -> None:
    doc = requests.get(configured.url + "/lti/tool-configuration.json", timeout=10).json()
    assert_valid_tool_configuration(doc, base_url=configured.url)
    assert doc["client_name"] == "Fractions Lab"
    lti = doc["https://purl.imsglobal.org/spec/lti-tool-configuration"]
    assert lti["custom_parameters"] == {"sis_id": "$Person.sourcedId"}
    assert {m["type"] for m in lti["messages"]} == {"LtiDeepLinkingRequest", "LtiResourceLinkRequest"}
