"""The checks on a platform's OpenID configuration and registration answer (lti-dr v1p0 §3.4-3.6)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.lti import errors
from gateway.lti.config import DrConfig
from gateway.lti.dynamic_registration import check_platform_configuration, deployment_id_from
from gateway.settings import SettingsError, load_settings

URL = "https://lms.example.edu/api/lti/security/openid-configuration"
PLATFORM = "https://purl.imsglobal.org/spec/lti-platform-configuration"


def _document(**changes: Any) -> dict[str, Any]:
    base = "https://lms.example.edu"
    document: dict[str, Any] = {
        "issuer": base, "authorization_endpoint": f"{base}/auth", "token_endpoint": f"{base}/token",
        "jwks_uri": f"{base}/jwks", "registration_endpoint": f"{base}/register",
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        PLATFORM: {"product_family_code": "moodle", "version": "4.3"},
    }
    document.update(changes)
    return {k: v for k, v in document.items() if v is not None}


def test_a_complete_configuration_is_accepted() -> None:
    platform = check_platform_configuration(URL, _document(authorization_server="urn:aud"), require_https=True)
    assert platform.issuer == "https://lms.example.edu" and platform.lms == "moodle"
    assert platform.authorization_server == "urn:aud" and platform.token_endpoint == "https://lms.example.edu/token"


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        ({"issuer": "https://other.example.com"}, errors.DrIssuerHostMismatch),
        ({"issuer": "https://lms.example.edu.evil.com"}, errors.DrIssuerHostMismatch),
        ({"jwks_uri": None}, errors.DrConfigInvalid),
        ({"registration_endpoint": ""}, errors.DrConfigInvalid),
        ({"token_endpoint": "http://lms.example.edu/token"}, errors.DrConfigInvalid),  # https outside dev
        ({"token_endpoint_auth_methods_supported": ["client_secret_basic"]}, errors.DrConfigInvalid),
        ({PLATFORM: None}, errors.DrConfigInvalid),
        ({PLATFORM: {"version": "1"}}, errors.DrConfigInvalid),
    ],
)
def test_refusals(changes: dict[str, Any], refusal: type[errors.LtiError]) -> None:
    with pytest.raises(refusal):
        check_platform_configuration(URL, _document(**changes), require_https=True)


def test_a_non_object_is_refused() -> None:
    with pytest.raises(errors.DrConfigInvalid):
        check_platform_configuration(URL, ["issuer"], require_https=False)


def test_http_is_accepted_in_development() -> None:
    document = _document(issuer="http://lms.example.edu", token_endpoint="http://lms.example.edu/token")
    assert check_platform_configuration(URL, document, require_https=False).issuer == "http://lms.example.edu"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"client_id": "1", "https://purl.imsglobal.org/spec/lti-tool-configuration": {"deployment_id": "7"}}, "7"),
        ({"client_id": "1", "https://purl.imsglobal.org/spec/lti-tool-configuration": {"deployment_id": 7}}, "7"),
        ({"client_id": "1", "deployment_id": "top"}, "top"),
        ({"client_id": "1"}, None),
        ({"client_id": "1", "deployment_id": ""}, None),
        ({"client_id": "1", "deployment_id": True}, None),
    ],
)
def test_deployment_id_from_the_answer(answer: dict[str, Any], expected: str | None) -> None:
    assert deployment_id_from(answer) == expected


def test_allowed_hosts() -> None:
    config = DrConfig.from_settings(load_settings(environ={}, lti_dynamic_registration_hosts="moodle.example.edu, "
                                                                                             ".instructure.com"))
    assert config.host_allowed("moodle.example.edu") and config.host_allowed("canvas.instructure.com")
    assert not config.host_allowed("evil.example.edu") and not config.host_allowed("instructure.com.evil.io")
    assert DrConfig.from_settings(load_settings(environ={})).host_allowed("anything.example")


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"lti_dynamic_registration": "yes"}, "GATEWAY_LTI_DYNAMIC_REGISTRATION"),
        ({"lti_dynamic_registration_timeout_seconds": 0}, "GATEWAY_LTI_DYNAMIC_REGISTRATION_TIMEOUT_SECONDS"),
    ],
)
def test_bad_settings_are_refused(overrides: dict[str, Any], setting: str) -> None:
    with pytest.raises(SettingsError) as refused:
        DrConfig.from_settings(load_settings(environ={}, **overrides))
    assert refused.value.setting == setting


@pytest.mark.parametrize(
    "endpoint",
    ["https://attacker.example/register", "https://lms.example.edu.attacker.example/register",
     "https://169.254.169.254/register"],
)
def test_a_registration_endpoint_on_another_host_is_refused(endpoint: str) -> None:
    """The registration token is sent there: only to the host that served the configuration."""
    with pytest.raises(errors.DrEndpointHostMismatch):
        check_platform_configuration(URL, _document(registration_endpoint=endpoint), require_https=True)


def test_a_registration_endpoint_on_the_configuration_host_is_accepted() -> None:
    document = _document(registration_endpoint="https://lms.example.edu:443/lti/register")
    assert check_platform_configuration(URL, document, require_https=True).registration_endpoint.endswith(
        "/lti/register")


def test_a_registration_endpoint_on_another_port_of_the_host_is_refused() -> None:
    # Issue 17: the host was compared, not the port; the token went to whatever listens on 8443.
    document = _document(registration_endpoint="https://lms.example.edu:8443/lti/register")
    with pytest.raises(errors.DrEndpointHostMismatch):
        check_platform_configuration(URL, document, require_https=True)
