"""How the tool presents itself to an LMS: the dynamic-registration tool configuration and Canvas's JSON.

One :class:`ToolProfile`, read from settings, feeds three documents:

- the OpenID client metadata with the ``https://purl.imsglobal.org/spec/lti-tool-configuration`` member that
  LTI Dynamic Registration posts to the platform (lti-dr v1p0 §3.1), also served as a plain
  document at ``/lti/tool-configuration.json`` for LMSs registered by hand;
- Canvas's developer-key JSON configuration at ``/lti/canvas.json`` (Canvas "Enter URL" method), with its
  placements (deep linking from ``link_selection`` and ``assignment_selection``), custom fields and privacy level.

Every message launches the one launch URL; the login URL, redirect URI and JWKS URL are the gateway's own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import gateway.lti.claims as c
from gateway.lti.config import LtiConfig
from gateway.settings import Settings, SettingsError, one_of

LOGO_PATH = "/lti/logo.svg"
CANVAS_PLATFORM = "canvas.instructure.com"
CANVAS_PRIVACY_LEVELS = ("anonymous", "name_only", "email_only", "public")
CANVAS_PRIVACY_CLAIM = "https://canvas.instructure.com/lti/privacy_level"

# Which message each Canvas placement launches: content pickers deep-link, navigation links launch.
CANVAS_PLACEMENTS: Mapping[str, str] = {
    "link_selection": c.DEEP_LINKING_REQUEST,
    "assignment_selection": c.DEEP_LINKING_REQUEST,
    "editor_button": c.DEEP_LINKING_REQUEST,
    "homework_submission": c.DEEP_LINKING_REQUEST,
    "course_navigation": c.RESOURCE_LINK_REQUEST,
    "account_navigation": c.RESOURCE_LINK_REQUEST,
    "user_navigation": c.RESOURCE_LINK_REQUEST,
    "global_navigation": c.RESOURCE_LINK_REQUEST,
}

# The OpenID claims the gateway asks for: identity matching needs names and email where the district shares them.
REQUESTED_CLAIMS = ("iss", "sub", "name", "given_name", "family_name", "email")
SERVICE_SCOPES = (*c.AGS_SCOPES, c.NRPS_SCOPE)

LOGO_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64" role="img" '
    'aria-label="Gateway"><rect width="64" height="64" rx="12" fill="#1f6feb"/>'
    '<path d="M18 44V20h28v6H24v12h16v-6h-8v-6h14v24z" fill="#fff"/></svg>'
)


def _parse_custom(raw: str) -> dict[str, str]:
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError as e:
        raise SettingsError("GATEWAY_LTI_TOOL_CUSTOM_PARAMETERS", "must be a JSON object") from e
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise SettingsError("GATEWAY_LTI_TOOL_CUSTOM_PARAMETERS", "must be a JSON object of string values")
    return value


@dataclass(frozen=True)
class ToolProfile:
    name: str
    description: str
    logo_url: str
    login_url: str
    launch_url: str
    jwks_url: str
    domain: str
    canvas_privacy_level: str
    canvas_placements: tuple[str, ...]
    custom_parameters: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings, config: LtiConfig) -> ToolProfile:
        if not settings.lti_tool_name.strip():
            raise SettingsError("GATEWAY_LTI_TOOL_NAME", "must not be empty")
        privacy_level = one_of(settings, "lti_canvas_privacy_level", CANVAS_PRIVACY_LEVELS)
        placements = tuple(p.strip() for p in settings.lti_canvas_placements.split(",") if p.strip())
        unknown = [p for p in placements if p not in CANVAS_PLACEMENTS]
        if unknown or not placements:
            raise SettingsError(
                "GATEWAY_LTI_CANVAS_PLACEMENTS", f"a comma-separated list of {', '.join(CANVAS_PLACEMENTS)}"
            )
        logo = settings.lti_tool_logo_url.strip() or config.public_base_url + LOGO_PATH
        if not logo.startswith(("https://", "http://")):
            raise SettingsError("GATEWAY_LTI_TOOL_LOGO_URL", "must be an absolute URL")
        if settings.is_production and not logo.startswith("https://"):
            # Unset, the logo follows the public base URL, whose own refusal names the variable to fix.
            named = "GATEWAY_LTI_TOOL_LOGO_URL" if settings.lti_tool_logo_url.strip() else "GATEWAY_PUBLIC_BASE_URL"
            raise SettingsError(named, "production needs an https:// logo URL" if named.endswith("LOGO_URL")
                                else "production needs an https:// public base URL")
        return cls(
            name=settings.lti_tool_name.strip(),
            description=settings.lti_tool_description.strip(),
            logo_url=logo,
            login_url=config.login_url,
            launch_url=config.launch_url,
            jwks_url=config.jwks_url,
            domain=urlsplit(config.public_base_url).netloc,
            canvas_privacy_level=privacy_level,
            canvas_placements=placements,
            custom_parameters=_parse_custom(settings.lti_tool_custom_parameters),
        )

    @property
    def tool_id(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-") or "gateway"

    def _placements_for(self, message_type: str) -> list[str]:
        return [p for p in self.canvas_placements if CANVAS_PLACEMENTS[p] == message_type]


def tool_configuration(profile: ToolProfile) -> dict[str, Any]:
    """The tool's OpenID client metadata with the LTI tool configuration (lti-dr v1p0 §3.1, §3.2)."""
    messages: list[dict[str, Any]] = [
        {
            "type": c.DEEP_LINKING_REQUEST,
            "target_link_uri": profile.launch_url,
            "label": profile.name,
            "icon_uri": profile.logo_url,
            "placements": profile._placements_for(c.DEEP_LINKING_REQUEST),
        }
    ]
    link_placements = profile._placements_for(c.RESOURCE_LINK_REQUEST)
    if link_placements:
        messages.append({
            "type": c.RESOURCE_LINK_REQUEST,
            "target_link_uri": profile.launch_url,
            "label": profile.name,
            "icon_uri": profile.logo_url,
            "placements": link_placements,
        })
    lti: dict[str, Any] = {
        "domain": profile.domain,
        "target_link_uri": profile.launch_url,
        "description": profile.description,
        "claims": list(REQUESTED_CLAIMS),
        "messages": messages,
        # Canvas otherwise installs the tool anonymous: no names or emails, so no identity matching.
        CANVAS_PRIVACY_CLAIM: profile.canvas_privacy_level,
    }
    if profile.custom_parameters:
        lti["custom_parameters"] = dict(profile.custom_parameters)
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": profile.login_url,
        "redirect_uris": [profile.launch_url],
        "client_name": profile.name,
        "jwks_uri": profile.jwks_url,
        "logo_uri": profile.logo_url,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(SERVICE_SCOPES),
        c.TOOL_CONFIGURATION: lti,
    }


def canvas_configuration(profile: ToolProfile) -> dict[str, Any]:
    """Canvas's developer-key JSON (LTI 1.3 "Paste JSON" or "Enter URL")."""
    placements = [
        {
            "placement": placement,
            "message_type": CANVAS_PLACEMENTS[placement],
            "target_link_uri": profile.launch_url,
            "text": profile.name,
            "icon_url": profile.logo_url,
            "enabled": True,
        }
        for placement in profile.canvas_placements
    ]
    return {
        "title": profile.name,
        "description": profile.description,
        "oidc_initiation_url": profile.login_url,
        "target_link_uri": profile.launch_url,
        "public_jwk_url": profile.jwks_url,
        "scopes": list(SERVICE_SCOPES),
        "extensions": [
            {
                "domain": profile.domain,
                "tool_id": profile.tool_id,
                "platform": CANVAS_PLATFORM,
                "privacy_level": profile.canvas_privacy_level,
                "settings": {"text": profile.name, "icon_url": profile.logo_url, "placements": placements},
            }
        ],
        "custom_fields": dict(profile.custom_parameters),
    }
