"""Clever's settings (``GATEWAY_CLEVER_*``; README "Clever setup"), read and checked once where they are read."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.settings import Settings, SettingsError, http_url, not_negative, one_of, positive

STATELESS_MODES = ("accept", "bounce")
# Clever answers 413 to a larger page limit.
MAX_PAGE_LIMIT = 10000


@dataclass(frozen=True)
class CleverConfig:
    client_id: str
    client_secret: str
    oauth_base_url: str
    api_base_url: str
    redirect_uri: str
    stateless_logins: str
    page_limit: int
    login_state_ttl_seconds: int
    rate_limit_per_minute: int = 1100
    max_retries: int = 4
    retry_base_seconds: float = 1.0
    max_rate_limit_wait_seconds: float = 90.0
    lms_timeout_seconds: float = 30.0
    sync_interval_seconds: int = 3600
    token_sync_interval_seconds: int = 3600
    full_sync_interval_seconds: int = 604800
    events_max_age_days: int = 29

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.client_secret)

    @classmethod
    def from_settings(cls, settings: Settings) -> CleverConfig:
        """Shape checks always; in production, refuse plain-HTTP Clever URLs. A half-set client is refused."""
        oauth = http_url(settings, "clever_oauth_base_url")
        api = http_url(settings, "clever_api_base_url")
        page_limit = positive(settings, "clever_page_limit")
        if page_limit > MAX_PAGE_LIMIT:
            raise SettingsError("GATEWAY_CLEVER_PAGE_LIMIT", f"Clever refuses limits above {MAX_PAGE_LIMIT} (413)")
        if bool(settings.clever_client_id) != bool(settings.clever_client_secret):
            raise SettingsError("GATEWAY_CLEVER_CLIENT_SECRET", "set both the Clever client id and secret, or neither")
        if settings.is_production:
            for name in ("clever_oauth_base_url", "clever_api_base_url", "clever_redirect_uri"):
                value = getattr(settings, name)
                if value and not value.startswith("https://"):
                    raise SettingsError(settings.env_name(name), "production needs https:// (Clever requires it)")
        redirect = (http_url(settings, "clever_redirect_uri") if settings.clever_redirect_uri
                    else settings.public_base_url.rstrip("/") + "/clever/callback")
        return cls(
            client_id=settings.clever_client_id,
            client_secret=settings.clever_client_secret,
            oauth_base_url=oauth.rstrip("/"),
            api_base_url=api.rstrip("/"),
            redirect_uri=redirect,
            stateless_logins=_stateless_mode(settings),
            page_limit=page_limit,
            login_state_ttl_seconds=positive(settings, "clever_login_state_ttl_seconds"),
            rate_limit_per_minute=positive(settings, "clever_rate_limit_per_minute"),
            max_retries=not_negative(settings, "clever_max_retries"),
            retry_base_seconds=positive(settings, "clever_retry_base_seconds"),
            max_rate_limit_wait_seconds=not_negative(settings, "clever_max_rate_limit_wait_seconds"),
            lms_timeout_seconds=positive(settings, "clever_lms_timeout_seconds"),
            sync_interval_seconds=positive(settings, "clever_sync_interval_seconds"),
            token_sync_interval_seconds=positive(settings, "clever_token_sync_interval_seconds"),
            full_sync_interval_seconds=positive(settings, "clever_full_sync_interval_seconds"),
            events_max_age_days=positive(settings, "clever_events_max_age_days"),
        )


def _stateless_mode(settings: Settings) -> str:
    """A Clever-initiated login carries no ``state``, so an attacker can hand a victim's browser a callback URL
    with the attacker's own code (login CSRF). ``bounce`` closes that by sending the browser once through
    Clever's authorize with a fresh state bound to it; every Clever flow (Portal, Instant Login, Library) allows
    it (Clever's OAuth docs), at the cost of one more redirect. Unset: ``bounce`` in production, ``accept`` in dev
    and test."""
    if not settings.clever_stateless_logins:
        return "bounce" if settings.is_production else "accept"
    return one_of(settings, "clever_stateless_logins", STATELESS_MODES)
