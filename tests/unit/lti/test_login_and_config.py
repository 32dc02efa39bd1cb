"""Login parameters, the gateway's own launch target, the LTI settings checks, the pages' script escaping."""

from __future__ import annotations

import pytest

from gateway.errors import GatewayError
from gateway.lti.config import LtiConfig
from gateway.lti.login import LoginRequest
from gateway.lti.pages import _js, launch_check_page
from gateway.settings import SettingsError, load_settings

PARAMS = {"iss": "https://lms", "login_hint": "u", "target_link_uri": "https://gw/lti/launch"}


def test_canvas_deployment_alias_and_storage_target() -> None:
    request = LoginRequest.from_params({**PARAMS, "deployment_id": "1:abc", "lti_storage_target": "_parent"})
    assert request.deployment_id == "1:abc" and request.storage_target == "_parent"
    spec = LoginRequest.from_params({**PARAMS, "lti_deployment_id": "2", "deployment_id": "1"})
    assert spec.deployment_id == "2"


def test_unusable_storage_target_is_dropped() -> None:
    assert LoginRequest.from_params({**PARAMS, "lti_storage_target": "</script>"}).storage_target is None


@pytest.mark.parametrize("missing", ["iss", "login_hint", "target_link_uri"])
def test_required_login_parameters(missing: str) -> None:
    with pytest.raises(GatewayError) as refused:
        LoginRequest.from_params({k: v for k, v in PARAMS.items() if k != missing})
    assert refused.value.code == "LTI_LOGIN_PARAM_MISSING"


@pytest.mark.parametrize(
    ("uri", "ours"),
    [("https://gw.example.com/lti/launch", True), ("https://GW.example.com/lti/launch/", True),
     ("https://gw.example.com/lti/launch?x=1", True), ("http://gw.example.com/lti/launch", False),
     ("https://gw.example.com.evil.com/lti/launch", False), ("https://gw.example.com/lti/launch#x", False),
     ("https://gw.example.com/lti/launchx", False), ("https://gw.example.com:8443/lti/launch", False),
     ("//gw.example.com/lti/launch", False), ("not a url", False)],
)
def test_only_the_gateway_launch_url_is_a_target(uri: str, ours: bool) -> None:
    config = LtiConfig.from_settings(load_settings(environ={}, public_base_url="https://gw.example.com"))
    assert config.is_own_launch_target(uri) is ours


@pytest.mark.parametrize(
    ("setting", "value"),
    [("lti_state_ttl_seconds", 0), ("lti_clock_leeway_seconds", 301), ("lti_clock_leeway_seconds", -1),
     ("lti_max_id_token_bytes", 0), ("lti_jwks_timeout_seconds", 0.0), ("lti_jwks_refetch_cooldown_seconds", -1.0)],
)
def test_lti_settings_are_checked(setting: str, value: float) -> None:
    with pytest.raises(SettingsError) as refused:
        LtiConfig.from_settings(load_settings(environ={}, **{setting: value}))
    assert refused.value.setting == "GATEWAY_" + setting.upper()


def test_script_literals_cannot_close_the_script() -> None:
    assert "</script>" not in _js("</script><script>alert(1)</script>")
    page = launch_check_page(launch_url="https://gw/lti/launch", id_token='a"b', state="</script>",
                             storage_target="post_message_forwarding", platform_origin="https://lms", key="state-x")
    assert page.count("</script>") == 1 and 'value="a&quot;b"' in page
