"""The LTI knobs, read once from :class:`gateway.settings.Settings` and checked."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from gateway.settings import Settings, SettingsError

LOGIN_PATH = "/lti/login"
LAUNCH_PATH = "/lti/launch"
JWKS_PATH = "/.well-known/jwks.json"


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
    dev: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> LtiConfig:
        positive = {
            "GATEWAY_LTI_STATE_TTL_SECONDS": settings.lti_state_ttl_seconds,
            "GATEWAY_LTI_MAX_ID_TOKEN_BYTES": settings.lti_max_id_token_bytes,
            "GATEWAY_LTI_JWKS_CACHE_SECONDS": settings.lti_jwks_cache_seconds,
            "GATEWAY_LTI_JWKS_TIMEOUT_SECONDS": settings.lti_jwks_timeout_seconds,
        }
        for name, value in positive.items():
            if value <= 0:
                raise SettingsError(name, "must be positive")
        # A leeway of minutes would reopen the replay window that exp closes (lti-brief §3.4: 5-60 s).
        if not 0 <= settings.lti_clock_leeway_seconds <= 300:
            raise SettingsError("GATEWAY_LTI_CLOCK_LEEWAY_SECONDS", "must be between 0 and 300")
        if settings.lti_jwks_refetch_cooldown_seconds < 0:
            raise SettingsError("GATEWAY_LTI_JWKS_REFETCH_COOLDOWN_SECONDS", "must not be negative")
        return cls(
            public_base_url=settings.public_base_url.rstrip("/"),
            state_ttl_seconds=settings.lti_state_ttl_seconds,
            leeway_seconds=settings.lti_clock_leeway_seconds,
            max_id_token_bytes=settings.lti_max_id_token_bytes,
            jwks_cache_seconds=settings.lti_jwks_cache_seconds,
            jwks_cooldown_seconds=settings.lti_jwks_refetch_cooldown_seconds,
            jwks_timeout_seconds=settings.lti_jwks_timeout_seconds,
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
