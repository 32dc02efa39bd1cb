"""The console's settings: off by default, a prefix of its own that no other feature owns, positive timeouts."""

from __future__ import annotations

import pytest

from gateway.console.config import ConsoleConfig
from gateway.settings import SettingsError, load_settings


def test_off_by_default_under_console() -> None:
    config = ConsoleConfig.from_settings(load_settings(environ={}))
    assert not config.enabled and config.path == "/console"
    assert config.idle_timeout.total_seconds() == 1800


def test_enabled_from_the_environment() -> None:
    settings = load_settings(environ={"GATEWAY_CONSOLE_ENABLED": "true", "GATEWAY_CONSOLE_PATH": "/ops/console"})
    config = ConsoleConfig.from_settings(settings)
    assert config.enabled and config.path == "/ops/console"


@pytest.mark.parametrize("path", ["console", "/console/", "/", "/api/console", "/lti", "/lti/console",
                                  "/identity/link", "/con sole", "/clever/admin", "/a//b"])
def test_a_prefix_that_is_not_a_path_or_belongs_to_another_feature_is_refused(path: str) -> None:
    with pytest.raises(SettingsError, match="GATEWAY_CONSOLE_PATH"):
        ConsoleConfig.from_settings(load_settings(environ={}, console_path=path))


@pytest.mark.parametrize("name", ["console_idle_timeout_seconds", "console_session_max_seconds"])
def test_timeouts_must_be_positive(name: str) -> None:
    with pytest.raises(SettingsError, match=name.upper()):
        ConsoleConfig.from_settings(load_settings(environ={}, **{name: 0}))


def test_lockout_defaults_to_ten_failures_and_fifteen_minutes() -> None:
    config = ConsoleConfig.from_settings(load_settings(environ={}))
    assert config.lockout_attempts == 10 and config.lockout.total_seconds() == 900
    tuned = ConsoleConfig.from_settings(load_settings(environ={"GATEWAY_CONSOLE_LOCKOUT_ATTEMPTS": "5",
                                                               "GATEWAY_CONSOLE_LOCKOUT_SECONDS": "60"}))
    assert tuned.lockout_attempts == 5 and tuned.lockout.total_seconds() == 60


@pytest.mark.parametrize(("name", "value"), [
    ("console_lockout_attempts", 0), ("console_lockout_attempts", 1001),
    ("console_lockout_seconds", 0), ("console_lockout_seconds", 86401),
])
def test_lockout_settings_out_of_range_are_refused_by_name(name: str, value: int) -> None:
    with pytest.raises(SettingsError, match=name.upper()):
        ConsoleConfig.from_settings(load_settings(environ={}, **{name: value}))


@pytest.mark.parametrize("variable", ["GATEWAY_CONSOLE_LOCKOUT_ATTEMPTS", "GATEWAY_CONSOLE_LOCKOUT_SECONDS"])
def test_a_malformed_lockout_setting_names_its_variable(variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings(environ={variable: "ten"})
