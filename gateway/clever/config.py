"""Clever's settings, checked once at bootstrap (``GATEWAY_CLEVER_*``; README "Clever setup")."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.settings import Settings, SettingsError

STATELESS_MODES = ("accept", "bounce")


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

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.client_secret)

    @classmethod
    def from_settings(cls, settings: Settings) -> CleverConfig:
        check_clever_settings(settings)
        redirect = settings.clever_redirect_uri or settings.public_base_url.rstrip("/") + "/clever/callback"
        return cls(
            client_id=settings.clever_client_id,
            client_secret=settings.clever_client_secret,
            oauth_base_url=settings.clever_oauth_base_url.rstrip("/"),
            api_base_url=settings.clever_api_base_url.rstrip("/"),
            redirect_uri=redirect,
            stateless_logins=settings.clever_stateless_logins,
            page_limit=settings.clever_page_limit,
            login_state_ttl_seconds=settings.clever_login_state_ttl_seconds,
        )


def check_clever_settings(settings: Settings) -> None:
    """Shape checks always; in production, refuse plain-HTTP Clever URLs and a half-set client."""
    if settings.clever_stateless_logins not in STATELESS_MODES:
        raise SettingsError("GATEWAY_CLEVER_STATELESS_LOGINS", f"must be one of {', '.join(STATELESS_MODES)}")
    for name in ("clever_oauth_base_url", "clever_api_base_url"):
        if not getattr(settings, name).startswith(("http://", "https://")):
            raise SettingsError(settings.env_name(name), "must be an absolute http(s) URL")
    positive = ("clever_page_limit", "clever_rate_limit_per_minute", "clever_login_state_ttl_seconds",
                "clever_sync_interval_seconds", "clever_token_sync_interval_seconds",
                "clever_full_sync_interval_seconds", "clever_events_max_age_days")
    for name in positive:
        if getattr(settings, name) <= 0:
            raise SettingsError(settings.env_name(name), "must be positive")
    if settings.clever_page_limit > 10000:
        raise SettingsError("GATEWAY_CLEVER_PAGE_LIMIT", "Clever refuses limits above 10000 (413)")
    if bool(settings.clever_client_id) != bool(settings.clever_client_secret):
        raise SettingsError("GATEWAY_CLEVER_CLIENT_SECRET", "set both the Clever client id and secret, or neither")
    if not settings.is_production:
        return
    for name in ("clever_oauth_base_url", "clever_api_base_url", "clever_redirect_uri"):
        value = getattr(settings, name)
        if value and not value.startswith("https://"):
            raise SettingsError(settings.env_name(name), "production needs https:// (Clever requires it)")
