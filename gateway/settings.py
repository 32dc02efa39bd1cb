"""Typed settings read from ``GATEWAY_*`` environment variables.

Defaults live in code, the environment overrides them, and tests override both
by passing keyword arguments to :func:`load_settings`. :func:`check_settings`
runs at start-up; in production it refuses every dev default by name.

Each feature reads its own settings into a frozen dataclass in its ``config.py`` (``from_settings``) and
checks them there with the small helpers below, so every refusal names the ``GATEWAY_*`` variable and
says what is wrong in the same words. Each helper returns the checked value.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_type_hints

DEV_SECRET_KEY = "dev-insecure-secret-key-change-me"  # noqa: S105  (the known dev value production refuses)
# A fixed dev encryption key so that `make run` works on a bare machine; production refuses it.
DEV_ENCRYPTION_KEYS = "dev:ZGV2LWluc2VjdXJlLWVuY3J5cHRpb24ta2V5LTMyYnk="
ENVIRONMENTS = ("dev", "test", "production")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(Exception):
    """A setting is missing, malformed, or not allowed in this environment."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(f"{setting}: {message}")
        self.setting = setting

    @property
    def problems(self) -> tuple[SettingsError, ...]:
        """Every refused setting this error stands for (one here; :class:`SettingsErrors` holds several)."""
        return (self,)


class SettingsErrors(SettingsError):
    """Several settings refused at once, so one start-up lists them all (not one per restart)."""

    def __init__(self, problems: Sequence[SettingsError]) -> None:
        flat = tuple(p for problem in problems for p in problem.problems)
        Exception.__init__(self, "\n".join(str(p) for p in flat))
        self.setting = flat[0].setting
        self._problems = flat

    @property
    def problems(self) -> tuple[SettingsError, ...]:
        return self._problems


def raise_problems(problems: Sequence[SettingsError]) -> None:
    """Raise nothing, the one problem, or all of them together."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise SettingsErrors(problems)


def collect(*checks: Callable[[], object]) -> list[SettingsError]:
    """Run every check, keeping each :class:`SettingsError` instead of stopping at the first."""
    problems: list[SettingsError] = []
    for check in checks:
        try:
            check()
        except SettingsError as e:
            problems.extend(e.problems)
    return problems


@dataclass(frozen=True)
class Settings:
    """Every knob of the gateway. Field ``foo_bar`` is read from ``GATEWAY_FOO_BAR``."""

    env: str = "dev"
    public_base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = "sqlite:///var/gateway.db"
    allow_sqlite_in_production: bool = False
    secret_key: str = DEV_SECRET_KEY
    encryption_keys: str = DEV_ENCRYPTION_KEYS
    keys_dir: str = "keys"
    signing_key_pem: str = ""
    vendor_launch_url: str = "http://127.0.0.1:8000/sandbox/vendor/launch"
    handoff_code_ttl_seconds: int = 120
    handoff_api_key_id: str = ""  # when set, only this API key may redeem hand-off codes
    log_level: str = "INFO"
    # After SIGTERM a `gateway serve` replica answers /readyz with 503 and keeps serving this long, so the load
    # balancer takes it out before it stops accepting; then requests in flight finish (up to 30 s more).
    shutdown_grace_seconds: float = 5.0
    metrics_token: str = ""  # when set, /metrics needs `Authorization: Bearer <token>`
    http_timeout_seconds: float = 10.0  # the total deadline of an outbound call: connect and every read together
    http_max_response_bytes: int = 16 * 1024 * 1024  # a larger answer fails the call (too_large)
    # How long a process trusts its cached registrations, deployments, API keys and tool keys: a change made
    # through another process (replica, worker, CLI) takes effect everywhere within this many seconds.
    cache_seconds: float = 5.0
    key_publish_delay_seconds: int = 86400
    key_retire_grace_seconds: int = 86400
    # Abuse limits (gateway/api/limits.py): per client address, Flask-Limiter notation
    rate_limits_enabled: bool = True
    rate_limit_storage_uri: str = "memory://"  # redis://host:6379/0 when several processes or replicas serve
    rate_limit_lti_register: str = "5/minute;20/hour"
    rate_limit_lti_launch: str = "3000/minute"  # /lti/login and /lti/launch together; a school shares one address
    rate_limit_clever: str = "1200/minute"  # a school behind one address logs in at the bell
    rate_limit_api_auth_failures: str = "120/minute"  # 401s on /api/
    rate_limit_redeem_failures: str = "600/minute"  # refused redemptions (refreshes answer 409: not all are attacks)
    trusted_proxy_hops: int = 0  # proxies in front whose X-Forwarded-For names the client
    lti_frame_ancestors: str = ""  # origins that may frame /lti/ pages; empty: any https (and http outside prod)
    rate_limit_console_sign_in: str = "10/minute;50/hour"  # console sign-in and password-change attempts
    # Operator console (gateway/console): off unless enabled; its own path prefix
    console_enabled: bool = False
    console_path: str = "/console"
    console_idle_timeout_seconds: int = 1800  # a session unused this long must sign in again
    console_session_max_seconds: int = 43200  # and any session ends after this long
    console_lockout_attempts: int = 10  # consecutive failed sign-ins that lock an account
    console_lockout_seconds: int = 900  # for this long (an admin can unlock it sooner)
    # LTI
    lti_state_ttl_seconds: int = 600
    lti_clock_leeway_seconds: int = 30
    lti_max_id_token_bytes: int = 65536
    lti_jwks_cache_seconds: int = 21600
    lti_jwks_refetch_cooldown_seconds: float = 30.0
    lti_jwks_timeout_seconds: float = 5.0
    # How the tool presents itself to LMSs (dynamic registration, /lti/canvas.json, /lti/tool-configuration.json).
    lti_tool_name: str = "Gateway"
    lti_tool_description: str = "Learning activities connected through the district's LMS."
    lti_tool_logo_url: str = ""  # empty: the gateway's own /lti/logo.svg
    lti_tool_custom_parameters: str = ""  # a JSON object of strings, e.g. {"sis_id": "$Person.sourcedId"}
    lti_canvas_privacy_level: str = "public"  # anonymous | name_only | email_only | public
    lti_canvas_placements: str = "link_selection,assignment_selection"
    lti_dynamic_registration: str = "pending"  # off | pending (an admin approves) | active
    lti_dynamic_registration_hosts: str = ""  # comma-separated hosts (or .suffixes) allowed; empty: any
    lti_dynamic_registration_timeout_seconds: float = 10.0
    lti_dynamic_registration_concurrency: int = 2  # registrations running at once per process; more get LTI_DR_BUSY
    # Clever
    clever_client_id: str = ""
    clever_client_secret: str = ""
    clever_oauth_base_url: str = "https://clever.com"
    clever_api_base_url: str = "https://api.clever.com"
    clever_redirect_uri: str = ""  # empty: <public base URL>/clever/callback
    # accept | bounce (once through authorize with a fresh state); empty: bounce in production, accept elsewhere
    clever_stateless_logins: str = ""
    clever_login_state_ttl_seconds: int = 600
    clever_page_limit: int = 1000
    clever_rate_limit_per_minute: int = 1100  # Clever allows 1,200 a minute per token: the rest is headroom
    clever_max_retries: int = 4
    clever_retry_base_seconds: float = 1.0
    clever_max_rate_limit_wait_seconds: float = 90.0
    clever_lms_timeout_seconds: float = 30.0
    clever_sync_interval_seconds: int = 3600
    clever_token_sync_interval_seconds: int = 3600
    clever_events_max_age_days: int = 29
    clever_full_sync_interval_seconds: int = 604800  # a full re-read weekly, in case events were missed
    # Writeback and workers
    writeback_max_attempts: int = 15  # then the row goes to `dead` (about 3 hours of failures with the defaults)
    writeback_backoff_base_seconds: float = 5.0
    writeback_backoff_cap_seconds: float = 3600.0
    writeback_retry_after_max_seconds: float = 3600.0  # a remote's Retry-After / X-RateLimit-Reset, capped
    writeback_lease_seconds: float = 60.0  # a dead worker's rows are claimable again after this
    writeback_max_delivery_seconds: float = 300.0  # leases stop being renewed for a delivery stuck this long
    writeback_poll_seconds: float = 1.0
    writeback_concurrency: int = 4
    writeback_delivered_retention_days: int = 30
    idempotency_retention_hours: int = 24
    worker_in_process: str = "auto"  # auto (on for SQLite, off for PostgreSQL) | true | false
    writeback_ags_timeout_seconds: float = 30.0  # each call to an LMS's AGS endpoints (token, line items, scores)
    writeback_assignment_wait_seconds: float = 2.0  # how soon a grade looks again for its assignment's remote copy

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_dev(self) -> bool:
        return self.env == "dev"

    @property
    def keys_path(self) -> Path:
        return Path(self.keys_dir)

    def env_name(self, field_name: str) -> str:
        return "GATEWAY_" + field_name.upper()


def _value(settings: Settings, field_name: str) -> Any:
    return getattr(settings, field_name)


def positive(settings: Settings, field_name: str) -> Any:
    """The field's value, which must be greater than zero."""
    value = _value(settings, field_name)
    if value <= 0:
        raise SettingsError(settings.env_name(field_name), "must be positive")
    return value


def not_negative(settings: Settings, field_name: str) -> Any:
    value = _value(settings, field_name)
    if value < 0:
        raise SettingsError(settings.env_name(field_name), "must not be negative")
    return value


def at_least(settings: Settings, field_name: str, minimum: float, what: str | None = None) -> Any:
    """The field's value, at least ``minimum`` (``what`` names the minimum when it is another setting)."""
    value = _value(settings, field_name)
    if value < minimum:
        raise SettingsError(settings.env_name(field_name), f"must be at least {what or f'{minimum:g}'}")
    return value


def between(settings: Settings, field_name: str, low: float, high: float) -> Any:
    value = _value(settings, field_name)
    if not low <= value <= high:
        raise SettingsError(settings.env_name(field_name), f"must be between {low:g} and {high:g}")
    return value


def one_of(settings: Settings, field_name: str, choices: tuple[str, ...]) -> str:
    value = str(_value(settings, field_name))
    if value not in choices:
        raise SettingsError(settings.env_name(field_name), f"must be one of {', '.join(choices)}")
    return value


def http_url(settings: Settings, field_name: str) -> str:
    """An absolute http(s) URL (production's https-only rules are each feature's, with its own reason)."""
    value = str(_value(settings, field_name))
    if not value.startswith(("http://", "https://")):
        raise SettingsError(settings.env_name(field_name), "must be an absolute http(s) URL")
    return value


def _coerce(name: str, raw: str, target: Any) -> Any:
    if target is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise SettingsError(name, f"expected true or false, got {raw!r}")
    if target is int:
        try:
            return int(raw)
        except ValueError as e:
            raise SettingsError(name, f"expected an integer, got {raw!r}") from e
    if target is float:
        try:
            number = float(raw)
        except ValueError as e:
            raise SettingsError(name, f"expected a number, got {raw!r}") from e
        if not math.isfinite(number):
            raise SettingsError(name, f"expected a finite number, got {raw!r}")
        return number
    return raw


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from defaults, then ``environ`` (default ``os.environ``), then ``overrides``."""
    source = os.environ if environ is None else environ
    hints = get_type_hints(Settings)
    values: dict[str, Any] = {}
    problems: list[SettingsError] = []
    for f in dataclasses.fields(Settings):
        env_name = "GATEWAY_" + f.name.upper()
        if env_name in source:
            try:
                values[f.name] = _coerce(env_name, source[env_name], hints[f.name])
            except SettingsError as e:
                problems.append(e)
    values.update(overrides)
    settings = Settings(**values)
    raise_problems(problems + _check_shape(settings))
    return settings


def _check_shape(settings: Settings) -> list[SettingsError]:
    def environment() -> None:
        if settings.env not in ENVIRONMENTS:
            raise SettingsError("GATEWAY_ENV", f"must be one of {', '.join(ENVIRONMENTS)}, got {settings.env!r}")

    def host() -> None:
        if not settings.host.strip():
            raise SettingsError("GATEWAY_HOST", "must be an address to listen on, e.g. 127.0.0.1 or 0.0.0.0")

    def log_level() -> None:
        if settings.log_level.upper() not in LOG_LEVELS:
            raise SettingsError(
                "GATEWAY_LOG_LEVEL", f"must be one of {', '.join(LOG_LEVELS)}, got {settings.log_level!r}"
            )

    return collect(
        environment,
        log_level,
        host,
        lambda: between(settings, "port", 1, 65535),
        lambda: http_url(settings, "public_base_url"),
        lambda: http_url(settings, "vendor_launch_url"),
        lambda: not_negative(settings, "key_publish_delay_seconds"),
        lambda: not_negative(settings, "key_retire_grace_seconds"),
        lambda: positive(settings, "handoff_code_ttl_seconds"),
        lambda: positive(settings, "http_timeout_seconds"),
        lambda: at_least(settings, "cache_seconds", 0),
        lambda: not_negative(settings, "shutdown_grace_seconds"),
        lambda: at_least(settings, "http_max_response_bytes", 1024),
        lambda: not_negative(settings, "trusted_proxy_hops"),
    )


MIN_SECRET_ENTROPY_BITS = 96


def secret_entropy_bits(secret: str) -> float:
    """An upper bound on a secret's entropy: its length times the Shannon entropy of its character frequencies.

    32 times "a" scores 0 and "abab..." 1 bit a character; 32 random hex digits score about 120, a
    ``secrets.token_urlsafe(48)`` about 350. It cannot tell a random string from a memorable one with varied
    characters, so it refuses the obviously weak, not every weak key.
    """
    if not secret:
        return 0.0
    counts = Counter(secret)
    total = len(secret)
    per_char = -sum(n / total * math.log2(n / total) for n in counts.values())
    return per_char * total


@dataclass(frozen=True)
class KeyFiles:
    """What production's start-up check knows of the tool signing keys, without a database."""

    dev: tuple[str, ...] = ()  # dev key files (``*.dev.pem``) in the keys dir
    real: bool = True  # a production key: a ``*.pem`` that is not a dev key, or GATEWAY_SIGNING_KEY_PEM

    @classmethod
    def of(cls, settings: Settings) -> KeyFiles:
        folder = settings.keys_path
        pems = sorted(folder.glob("*.pem")) if folder.is_dir() else []
        dev = tuple(str(p) for p in pems if p.name.endswith(".dev.pem"))
        real = bool(settings.signing_key_pem.strip()) or any(not p.name.endswith(".dev.pem") for p in pems)
        return cls(dev=dev, real=real)


# How to make a production signing key, as every refusal about one says it.
MAKE_A_KEY = (
    "make a production key with `GATEWAY_ENV=production gateway keys generate` (it writes <kid>.pem under "
    "GATEWAY_KEYS_DIR) or give one in GATEWAY_SIGNING_KEY_PEM"
)


def check_production(settings: Settings, key_files: KeyFiles | None = None) -> None:
    """Refuse to run production on any dev default. Raises :class:`SettingsError` naming the setting, or
    :class:`SettingsErrors` naming every refused setting at once. ``key_files`` default to the keys dir's."""
    if not settings.is_production:
        return
    keys = KeyFiles.of(settings) if key_files is None else key_files
    raise_problems(collect(
        lambda: _production_secret_key(settings),
        lambda: _production_encryption_keys(settings),
        lambda: _production_https(settings, "public_base_url", "an https:// public base URL"),
        lambda: _production_database(settings),
        lambda: _production_signing_key(settings, keys),
        lambda: _production_https(settings, "vendor_launch_url", "an https:// vendor launch URL"),
    ))


def _production_secret_key(settings: Settings) -> None:
    if settings.secret_key == DEV_SECRET_KEY or len(settings.secret_key) < 32:
        raise SettingsError("GATEWAY_SECRET_KEY", "production needs a random secret of at least 32 characters; make "
                            "one with `python -c \"import secrets; print(secrets.token_urlsafe(48))\"`")
    if secret_entropy_bits(settings.secret_key) < MIN_SECRET_ENTROPY_BITS:
        raise SettingsError(
            "GATEWAY_SECRET_KEY",
            f"looks guessable (under {MIN_SECRET_ENTROPY_BITS} bits by its character frequencies); make one with "
            "`python -c \"import secrets; print(secrets.token_urlsafe(48))\"`",
        )


def _production_encryption_keys(settings: Settings) -> None:
    dev_key = DEV_ENCRYPTION_KEYS.partition(":")[2]
    entries = [part.strip() for part in settings.encryption_keys.split(",") if part.strip()]
    if any(entry.startswith("dev:") or entry.endswith(dev_key) for entry in entries):
        raise SettingsError(
            "GATEWAY_ENCRYPTION_KEYS",
            "production refuses the dev encryption key; make one with "
            "`python -c \"from gateway.crypto import generate_key_spec; print(generate_key_spec('k1'))\"`",
        )


def _production_https(settings: Settings, field_name: str, what: str) -> None:
    if not str(_value(settings, field_name)).startswith("https://"):
        raise SettingsError(settings.env_name(field_name), f"production needs {what}")


def _production_database(settings: Settings) -> None:
    if settings.database_url.startswith("sqlite") and not settings.allow_sqlite_in_production:
        raise SettingsError(
            "GATEWAY_DATABASE_URL",
            "production runs on PostgreSQL; set GATEWAY_ALLOW_SQLITE_IN_PRODUCTION=true to accept SQLite",
        )


def _production_signing_key(settings: Settings, keys: KeyFiles) -> None:
    if keys.dev:
        raise SettingsError(
            "GATEWAY_KEYS_DIR",
            f"production refuses the dev signing key ({', '.join(keys.dev)}; `make run` made it): delete it "
            f"(`rm {settings.keys_path}/*.dev.pem`; `gateway keys generate` does not remove it)"
            + ("; the production key beside it then signs" if keys.real else f", then {MAKE_A_KEY}"),
        )
    if not keys.real:
        raise SettingsError("GATEWAY_KEYS_DIR", f"production needs a tool signing key and has none: {MAKE_A_KEY}")
