"""Settings: environment parsing and production's refusal of every dev default."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from gateway.settings import (
    DEV_ENCRYPTION_KEYS,
    DEV_SECRET_KEY,
    KeyFiles,
    SettingsError,
    SettingsErrors,
    check_production,
    load_settings,
)

A_KEY = KeyFiles(dev=(), real=True)

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
        # Issue 14: each of these reached a library and ended in a traceback, or was silently accepted.
        ({"GATEWAY_LOG_LEVEL": "LOUD"}, "GATEWAY_LOG_LEVEL"),
        ({"GATEWAY_PORT": "99999"}, "GATEWAY_PORT"),
        ({"GATEWAY_HOST": ""}, "GATEWAY_HOST"),
        ({"GATEWAY_HTTP_TIMEOUT_SECONDS": "nan"}, "GATEWAY_HTTP_TIMEOUT_SECONDS"),
        ({"GATEWAY_CACHE_SECONDS": "inf"}, "GATEWAY_CACHE_SECONDS"),
        ({"GATEWAY_VENDOR_LAUNCH_URL": "app.example.org/launch"}, "GATEWAY_VENDOR_LAUNCH_URL"),
        ({"GATEWAY_KEY_PUBLISH_DELAY_SECONDS": "-5"}, "GATEWAY_KEY_PUBLISH_DELAY_SECONDS"),
    ],
)
def test_malformed_settings_are_refused_by_name(environ: dict[str, str], setting: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ=environ)
    assert caught.value.setting == setting


def test_good_production_settings_pass() -> None:
    check_production(load_settings(environ={}, **GOOD_PRODUCTION), A_KEY)


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
        check_production(settings, A_KEY)
    assert caught.value.setting == setting


def test_production_refuses_the_dev_signing_key_and_says_how_to_replace_it() -> None:
    with pytest.raises(SettingsError) as caught:
        check_production(load_settings(environ={}, **GOOD_PRODUCTION), KeyFiles(dev=("keys/k.dev.pem",), real=False))
    assert caught.value.setting == "GATEWAY_KEYS_DIR"
    # Issue 14: it said "run `gateway keys generate`", which leaves the dev key where it is.
    message = str(caught.value)
    assert "keys/k.dev.pem" in message and "rm keys/*.dev.pem" in message
    assert "gateway keys generate` does not remove it" in message
    assert "GATEWAY_ENV=production gateway keys generate" in message and "GATEWAY_SIGNING_KEY_PEM" in message


def test_production_refuses_to_start_without_a_signing_key() -> None:
    """Issue 14: production started with a warning and no key to sign with."""
    with pytest.raises(SettingsError) as caught:
        check_production(load_settings(environ={}, **GOOD_PRODUCTION), KeyFiles(dev=(), real=False))
    assert caught.value.setting == "GATEWAY_KEYS_DIR"
    assert "gateway keys generate" in str(caught.value) and "GATEWAY_SIGNING_KEY_PEM" in str(caught.value)


def test_key_files_are_read_from_the_keys_dir_and_the_pem_setting(tmp_path: Path) -> None:
    assert KeyFiles.of(load_settings(environ={}, keys_dir=str(tmp_path / "none"))) == KeyFiles(dev=(), real=False)
    (tmp_path / "a.dev.pem").write_text("dev")
    assert KeyFiles.of(load_settings(environ={}, keys_dir=str(tmp_path))) == KeyFiles(
        dev=(str(tmp_path / "a.dev.pem"),), real=False)
    (tmp_path / "b.pem").write_text("real")
    assert KeyFiles.of(load_settings(environ={}, keys_dir=str(tmp_path))).real
    assert KeyFiles.of(load_settings(environ={}, keys_dir=str(tmp_path / "none"), signing_key_pem="PEM")).real


def test_production_lists_every_refused_setting_at_once() -> None:
    """Issue 14: one refusal per start meant six restarts to see them all."""
    settings = load_settings(environ={}, env="production")  # every dev default, no key
    with pytest.raises(SettingsErrors) as caught:
        check_production(settings, KeyFiles(dev=("keys/k.dev.pem",), real=False))
    assert [p.setting for p in caught.value.problems] == [
        "GATEWAY_SECRET_KEY", "GATEWAY_ENCRYPTION_KEYS", "GATEWAY_PUBLIC_BASE_URL", "GATEWAY_DATABASE_URL",
        "GATEWAY_KEYS_DIR", "GATEWAY_VENDOR_LAUNCH_URL",
    ]
    assert len(str(caught.value).splitlines()) == 6


def test_every_malformed_variable_is_named_in_one_error() -> None:
    with pytest.raises(SettingsErrors) as caught:
        load_settings(environ={"GATEWAY_PORT": "eighty", "GATEWAY_LOG_LEVEL": "LOUD", "GATEWAY_ENV": "staging"})
    assert sorted(p.setting for p in caught.value.problems) == [
        "GATEWAY_ENV", "GATEWAY_LOG_LEVEL", "GATEWAY_PORT"]


def test_a_log_level_is_checked_and_its_choices_named() -> None:
    """Issue 14: LOUD reached logging.setLevel and ended in a traceback ("Worker failed to boot" under serve)."""
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={"GATEWAY_LOG_LEVEL": "LOUD"})
    assert str(caught.value) == "GATEWAY_LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'LOUD'"
    assert load_settings(environ={"GATEWAY_LOG_LEVEL": "debug"}).log_level == "debug"


def test_production_accepts_sqlite_when_explicitly_allowed() -> None:
    settings = load_settings(
        environ={}, **{**GOOD_PRODUCTION, "database_url": "sqlite:///var/gw.db", "allow_sqlite_in_production": True}
    )
    check_production(settings, A_KEY)


def test_dev_defaults_are_fine_outside_production() -> None:
    check_production(load_settings(environ={}), KeyFiles(dev=("keys/k.dev.pem",), real=False))


def test_every_setting_is_documented_in_the_readme() -> None:
    import dataclasses
    from pathlib import Path

    from gateway.settings import Settings

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    undocumented = [
        f"GATEWAY_{f.name.upper()}" for f in dataclasses.fields(Settings) if f"`GATEWAY_{f.name.upper()}`" not in readme
    ]
    assert not undocumented, f"settings missing from the README: {undocumented}"


@pytest.mark.parametrize(
    ("overrides", "setting", "says"),
    [
        ({"database_url": "nonsense"}, "GATEWAY_DATABASE_URL", "must be a database URL"),
        # The image has no MySQL or psycopg2 driver: it was a ModuleNotFoundError traceback.
        ({"database_url": "mysql://db/gateway"}, "GATEWAY_DATABASE_URL", "got 'mysql'"),
        ({"database_url": "postgresql+psycopg2://db/gateway"}, "GATEWAY_DATABASE_URL", "got 'postgresql+psycopg2'"),
        ({"signing_key_pem": "garbage"}, "GATEWAY_SIGNING_KEY_PEM", "is not an unencrypted RSA private key"),
        # The console builds its config in each gunicorn worker: unchecked here it read "Worker failed to boot".
        ({"console_path": "/api/console"}, "GATEWAY_CONSOLE_PATH", "must not be under"),
        ({"console_idle_timeout_seconds": 0}, "GATEWAY_CONSOLE_IDLE_TIMEOUT_SECONDS", "positive"),
        ({"console_lockout_attempts": 0}, "GATEWAY_CONSOLE_LOCKOUT_ATTEMPTS", "between 1 and 1000"),
        ({"console_lockout_seconds": 10**12}, "GATEWAY_CONSOLE_LOCKOUT_SECONDS", "between 1 and 86400"),
        # Clever answers a redirect URI it does not know with an error page; this one was accepted outside production.
        ({"clever_redirect_uri": "ftp://gateway.example/clever/callback"}, "GATEWAY_CLEVER_REDIRECT_URI", "http"),
    ],
)
def test_every_command_checks_what_a_library_would_choke_on(overrides: dict[str, Any], setting: str,
                                                             says: str) -> None:
    from gateway.bootstrap import check_settings

    with pytest.raises(SettingsError) as caught:
        check_settings(load_settings(environ={}, **overrides))
    assert caught.value.setting == setting and says in str(caught.value)


def test_one_check_refuses_a_bad_setting_of_every_feature_at_once() -> None:
    """Each feature names the settings it checks (``setting_checks``); start-up runs them all and lists every one."""
    from gateway.bootstrap import check_settings

    bad = {  # one per feature that reads settings of its own, and the core's
        "signing_key_pem": "garbage",  # keys
        "rate_limit_lti_launch": "lots",  # api: the limits on every route
        "lti_dynamic_registration_timeout_seconds": 0,  # lti
        "clever_client_id": "half-set",  # clever
        "writeback_max_attempts": 0,  # writeback
        "console_path": "/api/console",  # console
        "database_url": "nonsense",  # core
    }
    with pytest.raises(SettingsErrors) as caught:
        check_settings(load_settings(environ={}, **bad))
    assert {p.setting for p in caught.value.problems} == {
        "GATEWAY_SIGNING_KEY_PEM", "GATEWAY_RATE_LIMIT_LTI_LAUNCH", "GATEWAY_LTI_DYNAMIC_REGISTRATION_TIMEOUT_SECONDS",
        "GATEWAY_CLEVER_CLIENT_SECRET", "GATEWAY_WRITEBACK_MAX_ATTEMPTS", "GATEWAY_CONSOLE_PATH",
        "GATEWAY_DATABASE_URL",
    }


def test_every_feature_says_which_settings_it_checks() -> None:
    from gateway.bootstrap import FEATURES

    assert [f.__name__ for f in FEATURES if "setting_checks" not in vars(f)] == []  # declared, never inherited


def test_an_unreadable_key_file_is_named(tmp_path: Path) -> None:
    from gateway.bootstrap import check_settings

    (tmp_path / "k.pem").write_text("not a key")
    with pytest.raises(SettingsError) as caught:
        check_settings(load_settings(environ={}, keys_dir=str(tmp_path)))
    assert str(caught.value).startswith(f"GATEWAY_KEYS_DIR: {tmp_path / 'k.pem'} is not an unencrypted RSA")


def test_the_default_settings_pass_every_check() -> None:
    from gateway.bootstrap import check_settings

    check_settings(load_settings(environ={}, keys_dir="no-such-dir"))
