"""What LTI Dynamic Registration (lti-dr v1p0 §3.1, §3.2) requires of a tool configuration, written apart from the code.

Used by the unit tests on the document and by the end-to-end test on what the simulated platform received.
"""

from __future__ import annotations

from typing import Any

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
AGS_SCOPES = {
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
}
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


def assert_valid_tool_configuration(config: dict[str, Any], *, base_url: str) -> None:
    """Every member the spec requires, with the gateway's own URLs, services and message types."""
    assert config["application_type"] == "web"
    assert "id_token" in config["response_types"]
    assert {"implicit", "client_credentials"} <= set(config["grant_types"])
    assert config["initiate_login_uri"] == base_url + "/lti/login"
    assert config["redirect_uris"] == [base_url + "/lti/launch"]
    assert config["jwks_uri"] == base_url + "/.well-known/jwks.json"
    assert config["token_endpoint_auth_method"] == "private_key_jwt"
    assert isinstance(config["client_name"], str) and config["client_name"]
    assert config["logo_uri"].startswith(("https://", "http://"))
    assert AGS_SCOPES | {NRPS_SCOPE} <= set(config["scope"].split(" "))
    lti = config[TOOL_CONFIGURATION]
    assert lti["domain"] == base_url.split("://", 1)[1]
    assert lti["target_link_uri"] == base_url + "/lti/launch"
    assert isinstance(lti["claims"], list) and {"iss", "sub"} <= set(lti["claims"])
    types = {m["type"] for m in lti["messages"]}
    assert "LtiDeepLinkingRequest" in types
    for message in lti["messages"]:
        assert message["target_link_uri"] == base_url + "/lti/launch"
        assert isinstance(message.get("label"), str)
