"""LMS presets: the issuer and endpoints each hosted LMS publishes in its developer docs, as data.

An operator registering Canvas types the client id (the developer key id) and nothing else; Moodle and
Brightspace need the site URL as well, because their issuer and most endpoints live under it. Every field
a preset fills can still be given explicitly, and the explicit value wins (a self-hosted Canvas, say).

Templates use ``{site}`` (the site URL without a trailing slash) and ``{client_id}`` (Blackboard names the
JWKS after the application id, which is the client id).
"""

# ruff: noqa: S106  (`auth_token_url` values are public endpoint URLs, not passwords)
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

ENDPOINTS = ("issuer", "auth_login_url", "auth_token_url", "auth_audience", "jwks_url")


@dataclass(frozen=True)
class Preset:
    name: str
    lms: str
    title: str
    issuer: str
    auth_login_url: str
    auth_token_url: str
    jwks_url: str
    auth_audience: str | None = None
    needs_site_url: bool = False

    def fill(self, *, client_id: str, site_url: str | None) -> dict[str, str | None]:
        """The endpoint values with the site URL and client id put in."""
        site = normalize_site_url(site_url) if site_url else ""
        values: dict[str, str | None] = {}
        for field in ENDPOINTS:
            template: str | None = getattr(self, field)
            values[field] = template.format(site=site, client_id=client_id) if template is not None else None
        return values


def _canvas(name: str, env: str, title: str) -> Preset:
    # Hosted Canvas shares one issuer per environment; the OIDC endpoints moved to sso.*.canvaslms.com
    # (the old instructure.com ones still answer "for now"; platform storage needs the new domain).
    dot = f"{env}." if env else ""
    sso = f"https://sso.{dot}canvaslms.com"
    return Preset(
        name=name, lms="canvas", title=title,
        issuer=f"https://canvas.{dot}instructure.com",
        auth_login_url=f"{sso}/api/lti/authorize_redirect",
        auth_token_url=f"{sso}/login/oauth2/token",
        jwks_url=f"{sso}/api/lti/security/jwks",
    )


_BLACKBOARD = "https://developer.blackboard.com/api/v1"
_SCHOOLOGY = "https://lti-service.svc.schoology.com/lti-service"

PRESETS: Mapping[str, Preset] = {
    p.name: p
    for p in (
        _canvas("canvas", "", "Canvas (Instructure-hosted, production)"),
        _canvas("canvas-beta", "beta", "Canvas beta environment"),
        _canvas("canvas-test", "test", "Canvas test environment"),
        Preset(
            name="schoology", lms="schoology", title="Schoology",
            issuer="https://schoology.schoology.com",
            auth_login_url=f"{_SCHOOLOGY}/authorize-redirect",
            auth_token_url=f"{_SCHOOLOGY}/access-token",
            jwks_url=f"{_SCHOOLOGY}/.well-known/jwks",
        ),
        Preset(
            name="blackboard", lms="blackboard", title="Blackboard Learn (Anthology)",
            issuer="https://blackboard.com",
            auth_login_url=f"{_BLACKBOARD}/gateway/oidcauth",
            auth_token_url=f"{_BLACKBOARD}/gateway/oauth2/jwttoken",
            jwks_url=f"{_BLACKBOARD}/management/applications/{{client_id}}/jwks.json",
        ),
        Preset(
            # The token URL and its audience are D2L-wide; the rest is per instance.
            name="brightspace", lms="brightspace", title="D2L Brightspace",
            issuer="{site}",
            auth_login_url="{site}/d2l/lti/authenticate",
            auth_token_url="https://auth.brightspace.com/core/connect/token",
            auth_audience="https://api.brightspace.com/auth/token",
            jwks_url="{site}/d2l/.well-known/jwks",
            needs_site_url=True,
        ),
        Preset(
            name="moodle", lms="moodle", title="Moodle (issuer = the site URL)",
            issuer="{site}",
            auth_login_url="{site}/mod/lti/auth.php",
            auth_token_url="{site}/mod/lti/token.php",
            jwks_url="{site}/mod/lti/certs.php",
            needs_site_url=True,
        ),
    )
}


class PresetError(ValueError):
    """A preset cannot be applied; ``field`` names the input to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def normalize_site_url(site_url: str) -> str:
    """``https://moodle.example.edu/`` -> ``https://moodle.example.edu`` (a path, as Moodle in a folder, stays)."""
    value = site_url.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise PresetError("site_url", "must be the LMS's absolute http(s) address, without query or fragment")
    return value


def apply_preset(
    name: str, *, client_id: str, site_url: str | None = None, given: Mapping[str, str | None] | None = None
) -> dict[str, str | None]:
    """Endpoint values for a registration: the preset's, overridden by every value ``given`` explicitly.

    Returns ``issuer``, ``auth_login_url``, ``auth_token_url``, ``auth_audience``, ``jwks_url`` and ``lms``.
    """
    preset = PRESETS.get(name)
    if preset is None:
        raise PresetError("preset", f"unknown preset {name!r}; one of {', '.join(PRESETS)}")
    explicit = {k: v for k, v in (given or {}).items() if v}
    uses_site = any("{site}" in (getattr(preset, f) or "") and f not in explicit for f in ENDPOINTS)
    if uses_site and not site_url:
        raise PresetError("site_url", f"the {name} preset needs the LMS site URL (for example https://lms.example.edu)")
    if not preset.needs_site_url and site_url:
        raise PresetError("site_url", f"the {name} preset takes no site URL: its endpoints are the same for everyone")
    values = preset.fill(client_id=client_id, site_url=site_url if uses_site else None)
    values.update(explicit)
    values["lms"] = preset.lms
    return values
