"""The LTI knobs, read once from :class:`gateway.settings.Settings` and checked with its helpers.

:class:`LtiConfig` holds the launch's knobs; :class:`DrConfig` those of dynamic registration.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from gateway.settings import Settings, SettingsError, between, not_negative, one_of, positive

LOGIN_PATH = "/lti/login"
LAUNCH_PATH = "/lti/launch"
JWKS_PATH = "/.well-known/jwks.json"
DYNAMIC_REGISTRATION_MODES = ("off", "pending", "active")


def recorded_launch_target(uri: str | None) -> str | None:
    """The target link URI as the launch record shows it: scheme, host and path, never the query.

    The gateway defines no query on its launch URL, yet accepts one (LMS admins add ``?placement=...``), so
    a query is whatever the placement's author typed. Handing it to the vendor would let ``?next=https://evil``
    look like a value the gateway checked; per-placement values belong in custom parameters (``custom``).
    """
    if uri is None:
        return None
    parts = urlsplit(uri)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


@dataclass(frozen=True)
class LtiConfig:
    public_base_url: str
    state_ttl_seconds: int
    leeway_seconds: int
    max_id_token_bytes: int
    jwks_cache_seconds: int
    jwks_cooldown_seconds: float
    jwks_timeout_seconds: float
    ags_timeout_seconds: float
    dev: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> LtiConfig:
        return cls(
            public_base_url=settings.public_base_url.rstrip("/"),
            state_ttl_seconds=positive(settings, "lti_state_ttl_seconds"),
            # A leeway of minutes would reopen the replay window that exp closes (a few seconds is usual).
            leeway_seconds=between(settings, "lti_clock_leeway_seconds", 0, 300),
            max_id_token_bytes=positive(settings, "lti_max_id_token_bytes"),
            jwks_cache_seconds=positive(settings, "lti_jwks_cache_seconds"),
            jwks_cooldown_seconds=not_negative(settings, "lti_jwks_refetch_cooldown_seconds"),
            jwks_timeout_seconds=positive(settings, "lti_jwks_timeout_seconds"),
            # Named for writeback, AGS's only caller when the setting was made.
            ags_timeout_seconds=positive(settings, "writeback_ags_timeout_seconds"),
            dev=settings.is_dev,
        )

    @property
    def login_url(self) -> str:
        return self.public_base_url + LOGIN_PATH

    @property
    def launch_url(self) -> str:
        """The one redirect URI and target link URI of every message type."""
        return self.public_base_url + LAUNCH_PATH

    @property
    def jwks_url(self) -> str:
        return self.public_base_url + JWKS_PATH

    @property
    def origin(self) -> str:
        parts = urlsplit(self.public_base_url)
        return f"{parts.scheme}://{parts.netloc}"

    def is_own_launch_target(self, uri: str) -> bool:
        """True when ``uri`` is the gateway's launch URL (a query string is allowed; no other host or path)."""
        try:
            parts = urlsplit(uri)
            ours = urlsplit(self.launch_url)
        except ValueError:
            return False
        return (
            parts.scheme.lower() == ours.scheme.lower()
            and parts.netloc.lower() == ours.netloc.lower()
            and parts.path.rstrip("/") == ours.path
            and not parts.fragment
        )


@dataclass(frozen=True)
class DrConfig:
    """Dynamic registration (``GATEWAY_LTI_DYNAMIC_REGISTRATION*``): off, pending approval, or active at once."""

    mode: str
    allowed_hosts: tuple[str, ...]
    timeout_seconds: float
    require_https: bool
    # Refuse targets that resolve to loopback/private/link-local/reserved addresses. On in production; off in
    # dev and test, whose simulated LMSs listen on loopback.
    public_addresses_only: bool = False
    # Registrations running at once in a process: a slow LMS must not hold the threads other requests need.
    concurrency: int = 2

    @classmethod
    def from_settings(cls, settings: Settings) -> DrConfig:
        mode = one_of(settings, "lti_dynamic_registration", DYNAMIC_REGISTRATION_MODES)
        timeout = positive(settings, "lti_dynamic_registration_timeout_seconds")
        hosts = tuple(h.strip().lower() for h in settings.lti_dynamic_registration_hosts.split(",") if h.strip())
        if settings.is_production and mode == "active" and not hosts:
            # active trusts every platform that registers; with no host list that is the whole internet.
            raise SettingsError(
                "GATEWAY_LTI_DYNAMIC_REGISTRATION",
                "active needs GATEWAY_LTI_DYNAMIC_REGISTRATION_HOSTS in production (or use pending)",
            )
        return cls(
            mode=mode,
            allowed_hosts=hosts,
            timeout_seconds=timeout,
            require_https=settings.is_production,
            public_addresses_only=settings.is_production,
            concurrency=positive(settings, "lti_dynamic_registration_concurrency"),
        )

    def host_allowed(self, host: str) -> bool:
        if not self.allowed_hosts:
            return True
        return any(host == h or (h.startswith(".") and host.endswith(h)) for h in self.allowed_hosts)
