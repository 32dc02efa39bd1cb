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
