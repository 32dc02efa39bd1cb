"""Check the LTI claims of a signed, time-valid token against :mod:`gateway.lti.claims` (data, not ifs).

Which claim is missing decides the code, so each 1EdTech certification invalid case meets its own
refusal; several missing at once is ``LTI_CLAIMS_MISSING``, listing them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gateway.lti.claims as c
import gateway.lti.errors as errors
from gateway.lti.claims import Required

# The refusal for each required claim's absence.
MISSING: dict[str, type[errors.LtiError]] = {
    c.VERSION: errors.VersionMissing,
    c.MESSAGE_TYPE: errors.MessageTypeMissing,
    c.DEPLOYMENT_ID: errors.DeploymentIdMissing,
    "sub": errors.SubMissing,
    c.ROLES: errors.RolesMissing,
    c.TARGET_LINK_URI: errors.TargetLinkUriMissing,
    c.RESOURCE_LINK: errors.ResourceLinkMissing,
    c.CONTEXT: errors.ContextMissing,
    c.DL_SETTINGS: errors.DeepLinkingSettingsMissing,
    c.FOR_USER: errors.ForUserMissing,
    c.AGS_ENDPOINT: errors.AgsEndpointMissing,
}
# The refusal for a required member's absence, where it has its own (otherwise LTI_CLAIM_INVALID).
MISSING_FIELD: dict[tuple[str, str], type[errors.LtiError]] = {
    (c.RESOURCE_LINK, "id"): errors.ResourceLinkIdMissing,
    (c.AGS_ENDPOINT, "lineitem"): errors.AgsEndpointMissing,
}
# Identifiers the gateway stores; the spec caps them at 255 characters.
ID_LIMIT = 255
LIMITED: tuple[tuple[str, str | None], ...] = (
    ("sub", None), (c.DEPLOYMENT_ID, None), (c.CONTEXT, "id"), (c.RESOURCE_LINK, "id"),
)
# Optional claims that, when present, must be JSON objects.
OPTIONAL_OBJECTS = (
    c.CONTEXT, c.RESOURCE_LINK, c.CUSTOM, c.LAUNCH_PRESENTATION, c.TOOL_PLATFORM, c.AGS_ENDPOINT, c.NRPS_SERVICE,
    c.LIS, c.DL_SETTINGS, c.FOR_USER,
)


def short(claim: str) -> str:
    return claim.rsplit("/", 1)[-1]


def _absent(value: Any) -> bool:
    return value is None or value == ""


def _shape_error(claim: str, what: str) -> errors.LtiError:
    return errors.ClaimInvalid(f"The claim {short(claim)} {what}.", extra={"claim": claim})


def _missing_claims(claims: Mapping[str, Any], rules: tuple[Required, ...]) -> list[str]:
    return [rule.claim for rule in rules if _absent(claims.get(rule.claim))]


def _check_shape(claims: Mapping[str, Any], rule: Required) -> None:
    value = claims[rule.claim]
    if rule.kind == "str" and not isinstance(value, str):
        raise _shape_error(rule.claim, "must be a string")
    if rule.kind == "list" and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise _shape_error(rule.claim, "must be an array of strings")
    if rule.kind == "object":
        if not isinstance(value, dict):
            raise _shape_error(rule.claim, "must be an object")
        for member in rule.fields:
            if _absent(value.get(member)):
                error = MISSING_FIELD.get((rule.claim, member), errors.ClaimInvalid)
                raise error(f"The claim {short(rule.claim)} has no {member}.", extra={"claim": rule.claim})


def check_message(claims: Mapping[str, Any]) -> str:
    """Raise the refusal for the first rule the claims break; return the message type."""
    message_type = claims.get(c.MESSAGE_TYPE)
    rules = c.COMMON + (c.BY_MESSAGE_TYPE.get(message_type, ()) if isinstance(message_type, str) else ())
    missing = _missing_claims(claims, rules)
    if len(missing) > 1:
        names = ", ".join(short(m) for m in missing)
        raise errors.ClaimsMissing(f"The launch lacks: {names}.", extra={"missing_claims": missing})
    if missing:
        raise MISSING[missing[0]](f"The launch lacks the {short(missing[0])} claim.")
    for rule in c.COMMON:
        _check_shape(claims, rule)
    if claims[c.VERSION] != c.LTI_VERSION:
        version = str(claims[c.VERSION])[:20]
        raise errors.VersionUnsupported(f"The launch says LTI version {version!r}; 1.3.0 is required.")
    assert isinstance(message_type, str)
    if message_type not in c.BY_MESSAGE_TYPE:
        raise errors.MessageTypeUnsupported(f"The gateway does not handle {message_type[:60]!r} messages.")
    for claim in OPTIONAL_OBJECTS:
        if claim in claims and not isinstance(claims[claim], dict):
            raise _shape_error(claim, "must be an object")
    for claim, member in c.OPTIONAL_FIELDS:
        if claim in claims and _absent(claims[claim].get(member)):
            raise errors.ClaimInvalid(f"The claim {short(claim)} has no {member}.", extra={"claim": claim})
    for rule in c.BY_MESSAGE_TYPE[message_type]:
        _check_shape(claims, rule)
    _check_limits(claims)
    if message_type == c.DEEP_LINKING_REQUEST:
        _check_deep_linking_settings(claims[c.DL_SETTINGS])
    return message_type


def _check_limits(claims: Mapping[str, Any]) -> None:
    for claim, member in LIMITED:
        value = claims.get(claim)
        if member is not None:
            value = value.get(member) if isinstance(value, dict) else None
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > ID_LIMIT:
            name = short(claim) + (f".{member}" if member else "")
            raise errors.ClaimInvalid(f"{name} must be a string of at most {ID_LIMIT} characters.",
                                      extra={"claim": claim})


def _check_deep_linking_settings(settings: dict[str, Any]) -> None:
    for member in ("accept_types", "accept_presentation_document_targets"):
        value = settings[member]
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise _shape_error(c.DL_SETTINGS, f"member {member} must be an array of strings")
    url = settings["deep_link_return_url"]
    # The browser posts the signed response there: a javascript: or data: URL would run in the gateway's page.
    if not isinstance(url, str) or not url.lower().startswith(("https://", "http://")):
        raise _shape_error(c.DL_SETTINGS, "member deep_link_return_url must be an absolute http(s) URL")
