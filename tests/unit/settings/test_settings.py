"""Settings: environment parsing and production's refusal of every dev default."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from gateway.settings import (
    DEV_ENCRYPTION_KEYS,
    DEV_SECRET_KEY,
    SettingsError,
    check_production,
    load_settings,
)

GOOD_PRODUCTION: dict[str, Any] = {
    "env": "production",
    "secret_key": "q7Vd-3kPz_W9mXa2LbN8rTf0sYhJc6Ue4GiOw1Ev5Kn",  # a fixed secrets.token_urlsafe(32)
    "encryption_keys": "k2026:" + base64.b64encode(b"p" * 32).decode(),
    "public_base_url": "https://gateway.example.org",
    "database_url": "postgresql://gateway@db/gateway",
    "vendor_launch_url": "https://app.example.org/lti",
}


def test_environment_variables_are_read_and_typed() -> None:
    settings = load_settings(
        environ={
            "GATEWAY_PORT": "9001",
            "GATEWAY_ALLOW_SQLITE_IN_PRODUCTION": "yes",
            "GATEWAY_HTTP_TIMEOUT_SECONDS": "2.5",
        }
    )
    assert settings.port == 9001
    assert settings.allow_sqlite_in_production is True
    assert settings.http_timeout_seconds == 2.5


def test_overrides_beat_the_environment() -> None:
    assert load_settings(environ={"GATEWAY_PORT": "9001"}, port=9002).port == 9002


@pytest.mark.parametrize(
    ("environ", "setting"),
    [
        ({"GATEWAY_PORT": "eighty"}, "GATEWAY_PORT"),
        ({"GATEWAY_ALLOW_SQLITE_IN_PRODUCTION": "maybe"}, "GATEWAY_ALLOW_SQLITE_IN_PRODUCTION"),
        ({"GATEWAY_ENV": "staging"}, "GATEWAY_ENV"),
        ({"GATEWAY_PUBLIC_BASE_URL": "gateway.example.org"}, "GATEWAY_PUBLIC_BASE_URL"),
        ({"GATEWAY_HANDOFF_CODE_TTL_SECONDS": "0"}, "GATEWAY_HANDOFF_CODE_TTL_SECONDS"),
    ],
)
def test_malformed_settings_are_refused_by_name(environ: dict[str, str], setting: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ=environ)
    assert caught.value.setting == setting


def test_good_production_settings_pass() -> None:
    check_production(load_settings(environ={}, **GOOD_PRODUCTION), signing_key_is_dev=False)


@pytest.mark.parametrize(
    ("override", "setting"),
    [
        ({"secret_key": DEV_SECRET_KEY}, "GATEWAY_SECRET_KEY"),
        ({"secret_key": "short"}, "GATEWAY_SECRET_KEY"),
        # Issue 17: 32 times "a" was accepted; long but low-entropy keys are refused now.
        ({"secret_key": "a" * 32}, "GATEWAY_SECRET_KEY"),
        ({"secret_key": "ab" * 32}, "GATEWAY_SECRET_KEY"),
        ({"encryption_keys": DEV_ENCRYPTION_KEYS}, "GATEWAY_ENCRYPTION_KEYS"),
        ({"encryption_keys": f"{GOOD_PRODUCTION['encryption_keys']},{DEV_ENCRYPTION_KEYS}"}, "GATEWAY_ENCRYPTION_KEYS"),
        ({"public_base_url": "http://gateway.example.org"}, "GATEWAY_PUBLIC_BASE_URL"),
        ({"database_url": "sqlite:///var/gateway.db"}, "GATEWAY_DATABASE_URL"),
        ({"vendor_launch_url": "http://app.example.org/lti"}, "GATEWAY_VENDOR_LAUNCH_URL"),
    ],
)
def test_production_refuses_each_dev_default(override: dict[str, Any], setting: str) -> None:
    settings = load_settings(environ={}, **{**GOOD_PRODUCTION, **override})
    with pytest.raises(SettingsError) as caught:
        check_production(settings, signing_key_is_dev=False)
    assert caught.value.setting == setting


def test_production_refuses_the_dev_signing_key() -> None:
    with pytest.raises(SettingsError) as caught:
        check_production(load_settings(environ={}, **GOOD_PRODUCTION), signing_key_is_dev=True)
    assert caught.value.setting == "GATEWAY_KEYS_DIR"


def test_production_accepts_sqlite_when_explicitly_allowed() -> None:
    settings = load_settings(
        environ={}, **{**GOOD_PRODUCTION, "database_url": "sqlite:///var/gw.db", "allow_sqlite_in_production": True}
    )
    check_production(settings, signing_key_is_dev=False)


def test_dev_defaults_are_fine_outside_production() -> None:
    check_production(load_settings(environ={}), signing_key_is_dev=True)


def test_every_setting_is_documented_in_the_readme() -> None:
    import dataclasses
    from pathlib import Path

    from gateway.settings import Settings

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    undocumented = [
        f"GATEWAY_{f.name.upper()}" for f in dataclasses.fields(Settings) if f"`GATEWAY_{f.name.upper()}`" not in readme
    ]
    assert not undocumented, f"settings missing from the README: {undocumented}"
