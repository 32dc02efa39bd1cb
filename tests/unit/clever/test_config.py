"""Clever's settings are checked where they are read, each refusal naming its GATEWAY_* variable."""

from __future__ import annotations

import pytest

from gateway.clever.config import CleverConfig
from gateway.settings import SettingsError, load_settings


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"clever_stateless_logins": "maybe"}, "GATEWAY_CLEVER_STATELESS_LOGINS"),
        ({"clever_api_base_url": "api.clever.com"}, "GATEWAY_CLEVER_API_BASE_URL"),
        ({"clever_page_limit": 0}, "GATEWAY_CLEVER_PAGE_LIMIT"),
        ({"clever_page_limit": 10001}, "GATEWAY_CLEVER_PAGE_LIMIT"),
        ({"clever_client_id": "x"}, "GATEWAY_CLEVER_CLIENT_SECRET"),
        ({"clever_rate_limit_per_minute": 0}, "GATEWAY_CLEVER_RATE_LIMIT_PER_MINUTE"),
        ({"clever_max_retries": -1}, "GATEWAY_CLEVER_MAX_RETRIES"),
        ({"clever_retry_base_seconds": 0}, "GATEWAY_CLEVER_RETRY_BASE_SECONDS"),
        ({"clever_max_rate_limit_wait_seconds": -1}, "GATEWAY_CLEVER_MAX_RATE_LIMIT_WAIT_SECONDS"),
        ({"clever_lms_timeout_seconds": 0}, "GATEWAY_CLEVER_LMS_TIMEOUT_SECONDS"),
        ({"clever_events_max_age_days": 0}, "GATEWAY_CLEVER_EVENTS_MAX_AGE_DAYS"),
        ({"env": "production", "clever_redirect_uri": "http://gw.example/cb"}, "GATEWAY_CLEVER_REDIRECT_URI"),
    ],
)
def test_bad_clever_settings_name_the_variable(overrides: dict[str, object], setting: str) -> None:
    with pytest.raises(SettingsError) as refused:
        CleverConfig.from_settings(load_settings(environ={}, **overrides))
    assert refused.value.setting == setting


def test_the_defaults_are_read() -> None:
    config = CleverConfig.from_settings(load_settings(environ={}, public_base_url="https://gw.example"))
    assert (config.redirect_uri, config.max_retries, config.lms_timeout_seconds) == (
        "https://gw.example/clever/callback", 4, 30.0)


def test_production_bounces_state_less_logins_unless_told_otherwise() -> None:
    # Issue 17: state-less callbacks were accepted in production, so a browser could be logged into someone
    # else's Clever identity (login CSRF).
    production = {"env": "production", "public_base_url": "https://gw.example"}
    assert CleverConfig.from_settings(load_settings(environ={}, **production)).stateless_logins == "bounce"
    assert CleverConfig.from_settings(load_settings(environ={})).stateless_logins == "accept"
    chosen = load_settings(environ={}, clever_stateless_logins="accept", **production)
    assert CleverConfig.from_settings(chosen).stateless_logins == "accept"
