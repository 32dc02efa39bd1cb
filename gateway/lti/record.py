"""The vendor-facing launch record of an LTI launch (``kind: lti``), documented in ``openapi.yaml`` (LtiLaunch).

Personal data appears as the platform shared it, and only there: the record is stored encrypted.
Service endpoints (AGS, NRPS, the deep-link return URL) stay server-side; the record says what the
launch allows and names the gateway ids the writeback API takes.
"""

from __future__ import annotations

from typing import Any

import gateway.lti.claims as c
from gateway.lti.config import recorded_launch_target
from gateway.lti.courses import ags_scopes
from gateway.lti.migration import Lti1p1Identity
from gateway.lti.people import LaunchUser
from gateway.lti.registrations import Deployment
from gateway.lti.roles import normalize
from gateway.lti.validator import VerifiedLaunch
from gateway.store.models.lti import LtiContextRow, LtiResourceLinkRow

DEEP_LINK_RESPONSE_PATH = "/api/v1/launches/{launch_id}/deep-link-response"


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def flag(value: Any, default: bool | None) -> bool | None:
    """Deep-linking booleans arrive as JSON booleans or as the strings ``"true"``/``"false"``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return default


def _user(launch: VerifiedLaunch, user: LaunchUser) -> dict[str, Any]:
    claims = launch.claims
    return {
        "id": user.id,
        "name": _str(claims.get("name")),
        "given_name": _str(claims.get("given_name")),
        "family_name": _str(claims.get("family_name")),
        "email": _str(claims.get("email")),
        "locale": _str(claims.get("locale")) or _str(launch.claim(c.LAUNCH_PRESENTATION).get("locale")),
    }


def _lti(launch: VerifiedLaunch, deployment: Deployment, lti1p1: Lti1p1Identity | None) -> dict[str, Any]:
    platform = launch.claim(c.TOOL_PLATFORM)
    return {
        "issuer": launch.registration.issuer,
        "sub": launch.sub,
        "client_id": launch.registration.client_id,
        "deployment_id": launch.deployment_id,
        "registration": launch.registration.id,
        "deployment": deployment.id,
        "lms": launch.registration.lms,
        "platform": {
            "guid": _str(platform.get("guid")),
            "name": _str(platform.get("name")),
            "product_family_code": _str(platform.get("product_family_code")),
            "version": _str(platform.get("version")),
        } if platform else None,
        # Who the person was under the LTI 1.1 tool, only from a migration claim whose signature held.
        "lti1p1": lti1p1.document() if lti1p1 is not None else None,
    }


def _context(row: LtiContextRow | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"id": row.id, "lms_id": row.context_id, "title": row.title, "label": row.label, "types": list(row.types)}


def _resource_link(row: LtiResourceLinkRow | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"id": row.id, "lms_id": row.resource_link_id, "title": row.title, "description": row.description}


# Why course services are unavailable to a launch without a course (the ``reasons`` of ``writeback``).
NO_CONTEXT_REASON = {
    "code": "LTI_NO_CONTEXT",
    "message": "The platform launched the tool outside a course (the launch has no `context`): there is no course "
               "to create assignments in, grade or read the roster of. Launch from inside a course for those.",
}


def _writeback(
    launch: VerifiedLaunch, context: LtiContextRow | None, link: LtiResourceLinkRow | None
) -> dict[str, Any]:
    if context is None:
        # AGS and NRPS are course services: without a course the gateway keeps no endpoint to use them.
        return {"context_id": None, "resource_link_id": None, "ags": None, "nrps": False,
                "reasons": [NO_CONTEXT_REASON]}
    ags: dict[str, Any] | None = None
    if c.AGS_ENDPOINT in launch.claims:
        scopes = ags_scopes(launch)
        endpoint = launch.claim(c.AGS_ENDPOINT)
        ags = {
            "scopes": scopes,
            "can_manage_line_items": c.AGS_SCOPE_LINEITEM in scopes and bool(endpoint.get("lineitems")),
            "can_read_line_items": bool({c.AGS_SCOPE_LINEITEM, c.AGS_SCOPE_LINEITEM_READONLY} & set(scopes)),
            "can_post_scores": c.AGS_SCOPE_SCORE in scopes,
            "can_read_results": c.AGS_SCOPE_RESULT_READONLY in scopes,
            "has_line_item": bool(endpoint.get("lineitem")),
        }
    return {
        "context_id": context.id if context else None,
        "resource_link_id": link.id if link else None,
        "ags": ags,
        # Offered by the launch's claim, and granted to the registration (when its scopes are known).
        "nrps": bool(launch.claim(c.NRPS_SERVICE).get("context_memberships_url"))
        and launch.registration.grants(c.NRPS_SCOPE),
        "reasons": [],
    }


def deep_linking_settings(launch: VerifiedLaunch) -> dict[str, Any]:
    """The platform's deep-linking settings, normalized (server-side copy: includes return URL and data)."""
    settings = launch.claim(c.DL_SETTINGS)
    return {
        "deep_link_return_url": settings["deep_link_return_url"],
        "accept_types": list(settings["accept_types"]),
        "accept_presentation_document_targets": list(settings["accept_presentation_document_targets"]),
        "accept_media_types": _str(settings.get("accept_media_types")),
        # Absent means "not promised": one item, and line items allowed unless refused (DL 2.0 §4.4.1).
        "accept_multiple": flag(settings.get("accept_multiple"), False),
        "accept_lineitem": flag(settings.get("accept_lineitem"), None),
        "auto_create": flag(settings.get("auto_create"), False),
        "title": _str(settings.get("title")),
        "text": _str(settings.get("text")),
        "data": settings.get("data"),
    }


def _deep_linking(launch: VerifiedLaunch, launch_id: str) -> dict[str, Any] | None:
    if launch.message_type != c.DEEP_LINKING_REQUEST:
        return None
    public = {k: v for k, v in deep_linking_settings(launch).items() if k not in ("deep_link_return_url", "data")}
    public["response_url"] = DEEP_LINK_RESPONSE_PATH.format(launch_id=launch_id)
    return public


def _presentation(launch: VerifiedLaunch) -> dict[str, Any] | None:
    claim = launch.claim(c.LAUNCH_PRESENTATION)
    if not claim:
        return None
    return {
        "document_target": _str(claim.get("document_target")),
        "width": _int(claim.get("width")),
        "height": _int(claim.get("height")),
        "return_url": _str(claim.get("return_url")),
        "locale": _str(claim.get("locale")),
    }


def _for_user(launch: VerifiedLaunch, for_user_id: str | None) -> dict[str, Any] | None:
    claim = launch.claim(c.FOR_USER)
    if not claim:
        return None
    roles = claim.get("roles")
    return {
        "sub": str(claim["user_id"]),
        "user_id": for_user_id,
        "name": _str(claim.get("name")),
        "email": _str(claim.get("email")),
        "roles": normalize([r for r in roles if isinstance(r, str)]).as_dict() if isinstance(roles, list) else None,
    }


def build_record(
    launch: VerifiedLaunch,
    *,
    launch_id: str,
    user: LaunchUser,
    deployment: Deployment,
    context: LtiContextRow | None,
    link: LtiResourceLinkRow | None,
    for_user_id: str | None = None,
    clever_match: dict[str, Any] | None = None,
    lti1p1: Lti1p1Identity | None = None,
) -> dict[str, Any]:
    custom = launch.claim(c.CUSTOM)
    roles = launch.claims.get(c.ROLES)
    return {
        "message_type": launch.message_type,
        "user": _user(launch, user),
        "lti": _lti(launch, deployment, lti1p1),
        "roles": normalize(list(roles) if isinstance(roles, list) else []).as_dict(),
        "context": _context(context),
        "resource_link": _resource_link(link),
        "custom": custom,
        "clever": {"user_id": user.clever_user_id} if user.clever_user_id else None,
        # How the Clever identity was found (gateway.identity; CleverMatch in openapi.yaml).
        "clever_match": clever_match or {
            "result": "existing" if user.clever_user_id else "unmatched", "clever_user_id": user.clever_user_id,
            "district_id": deployment.clever_district_id, "linked_by": None, "conflict": False,
        },
        "writeback": _writeback(launch, context, link),
        "deep_linking": _deep_linking(launch, launch_id),
        "launch_presentation": _presentation(launch),
        "for_user": _for_user(launch, for_user_id),
        # Without its query: the validator checked scheme, host and path only (config.recorded_launch_target).
        "target_link_uri": recorded_launch_target(_str(launch.claims.get(c.TARGET_LINK_URI))),
    }
