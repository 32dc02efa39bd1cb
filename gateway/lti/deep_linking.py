"""Deep Linking 2.0 response: the vendor's content items, checked, signed, and posted back to the platform.

Spec: https://www.imsglobal.org/spec/lti-dl/v2p0/ (§3 content items, §4.5 response message); claims as
§4.5 lists them. The claim set comes from pylti1p3's ``DeepLink.get_message_jwt`` (sound:
``iss`` = client id, ``aud`` = [platform issuer], deployment id, ``data`` echoed), hardened to drop a
``data`` the platform never sent; the gateway's key ring signs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.registration import Registration as PyltiRegistration

import gateway.lti.claims as c
import gateway.lti.errors as errors
from gateway.api.keys import ApiKey
from gateway.errors import ValidationFailed
from gateway.handoff import HandoffService
from gateway.keys import KeyRing
from gateway.lti.config import LtiConfig
from gateway.lti.registrations import get_registration
from gateway.store import Database
from gateway.store.models.base import utcnow
from gateway.store.repositories.lti_launches import DeepLinkRequestRepository

MAX_ITEMS = 100
MAX_TEXT = 10_000

# Members each item type may carry (DL 2.0 §3); keys that are URIs are platform extensions and pass.
_COMMON = {"type", "title", "text", "icon", "thumbnail"}
ALLOWED_MEMBERS: dict[str, set[str]] = {
    "ltiResourceLink": _COMMON | {"url", "custom", "lineItem", "available", "submission", "iframe", "window"},
    "link": _COMMON | {"url", "embed", "window", "iframe"},
    "html": _COMMON | {"html"},
    "file": _COMMON | {"url", "mediaType", "expiresAt"},
    "image": _COMMON | {"url", "width", "height"},
}
URL_REQUIRED = {"link", "file", "image"}


@dataclass(frozen=True)
class ItemError:
    field: str
    message: str


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("https://", "http://")) and len(value) <= 2000


def _check_item(index: int, item: Any, config: LtiConfig) -> list[ItemError]:
    where = f"content_items[{index}]"
    if not isinstance(item, dict):
        return [ItemError(where, "must be an object")]
    kind = item.get("type")
    if kind not in ALLOWED_MEMBERS:
        return [ItemError(f"{where}.type", f"must be one of {', '.join(c.CONTENT_ITEM_TYPES)}")]
    problems: list[ItemError] = []
    for member in item:
        if member not in ALLOWED_MEMBERS[kind] and "://" not in member:
            problems.append(ItemError(f"{where}.{member}", f"is not a member of a {kind} item"))
    for member in ("title", "text", "html"):
        if member in item and (not isinstance(item[member], str) or len(item[member]) > MAX_TEXT):
            problems.append(ItemError(f"{where}.{member}", f"must be a string of at most {MAX_TEXT} characters"))
    if kind in URL_REQUIRED and not _is_url(item.get("url")):
        problems.append(ItemError(f"{where}.url", "is required and must be an http(s) URL"))
    if kind == "html" and not isinstance(item.get("html"), str):
        problems.append(ItemError(f"{where}.html", "is required"))
    if kind == "ltiResourceLink":
        problems += _check_resource_link(where, item, config)
    return problems


def _check_resource_link(where: str, item: dict[str, Any], config: LtiConfig) -> list[ItemError]:
    problems: list[ItemError] = []
    if "url" in item and not (isinstance(item["url"], str) and config.is_own_launch_target(item["url"])):
        # The placement must launch back through the gateway, or it would bypass every check here.
        problems.append(ItemError(f"{where}.url", f"must be the gateway's launch URL {config.launch_url} or absent"))
    custom = item.get("custom")
    if custom is not None and not (
        isinstance(custom, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in custom.items())
    ):
        problems.append(ItemError(f"{where}.custom", "must be an object of string values"))
    line_item = item.get("lineItem")
    if line_item is not None:
        if not isinstance(line_item, dict):
            problems.append(ItemError(f"{where}.lineItem", "must be an object"))
        else:
            maximum = line_item.get("scoreMaximum")
            if isinstance(maximum, bool) or not isinstance(maximum, int | float) or maximum <= 0:
                problems.append(ItemError(f"{where}.lineItem.scoreMaximum", "is required and must be positive"))
            for member in ("label", "resourceId", "tag"):
                if member in line_item and not isinstance(line_item[member], str):
                    problems.append(ItemError(f"{where}.lineItem.{member}", "must be a string"))
    return problems


def check_items(body: Mapping[str, Any], settings: Mapping[str, Any], config: LtiConfig) -> list[dict[str, Any]]:
    """The content items, when they fit what the platform asked for; otherwise the refusal."""
    items = body.get("content_items")
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        raise ValidationFailed(
            extra={"errors": [{"field": "content_items", "message": f"must be an array of at most {MAX_ITEMS}"}]}
        )
    problems = [p for i, item in enumerate(items) for p in _check_item(i, item, config)]
    if problems:
        raise ValidationFailed(
            f"{len(problems)} content item problem(s).",
            extra={"errors": [{"field": p.field, "message": p.message} for p in problems]},
        )
    accepted = set(settings["accept_types"])
    for index, item in enumerate(items):
        if item["type"] not in accepted:
            raise errors.DeepLinkTypeNotAccepted(
                f"content_items[{index}] is a {item['type']}; the LMS accepts {', '.join(sorted(accepted)) or 'none'}."
            )
        if "lineItem" in item and settings.get("accept_lineitem") is False:
            raise errors.DeepLinkLineItemNotAccepted(f"content_items[{index}] carries a lineItem.")
    if len(items) > 1 and not settings.get("accept_multiple"):
        raise errors.DeepLinkMultipleNotAccepted(f"{len(items)} items sent; the LMS accepts one.")
    return items


class _Item(DeepLinkResource):
    """An already-checked item in the shape pylti1p3's DeepLink takes (its ``to_dict`` knows fewer types)."""

    def __init__(self, item: dict[str, Any]) -> None:
        self._item = item

    def to_dict(self) -> dict[str, Any]:
        return dict(self._item)


def response_claims(
    *,
    issuer: str,
    client_id: str,
    deployment_id: str,
    settings: Mapping[str, Any],
    items: list[dict[str, Any]],
    messages: Mapping[str, Any],
) -> dict[str, Any]:
    registration = PyltiRegistration().set_issuer(issuer).set_client_id(client_id)
    link = DeepLink(registration, deployment_id, {"deep_link_return_url": settings["deep_link_return_url"],
                                                   "data": settings.get("data")})
    claims: dict[str, Any] = link.get_message_jwt([_Item(i) for i in items])
    if settings.get("data") is None:
        claims.pop(c.DL_DATA, None)  # echo data only when the platform sent some
    for field, claim in (("message", c.DL_MSG), ("log", c.DL_LOG), ("error_message", c.DL_ERRORMSG),
                         ("error_log", c.DL_ERRORLOG)):
        if isinstance(messages.get(field), str) and messages[field]:
            claims[claim] = messages[field][:1000]
    return claims


def auto_post_form(return_url: str, token: str) -> str:
    """A page that posts the response JWT to the platform (DL 2.0 §4.5: form field ``JWT``)."""
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Returning to your course</title>"
        "</head><body>"
        f"<form id=\"deep-link-response\" method=\"post\" action=\"{escape(return_url, quote=True)}\">"
        f"<input type=\"hidden\" name=\"JWT\" value=\"{escape(token, quote=True)}\">"
        "<noscript><button type=\"submit\">Return to the course</button></noscript></form>"
        "<script>document.getElementById('deep-link-response').submit();</script>"
        "</body></html>"
    )


class DeepLinkingService:
    """``POST /api/v1/launches/{id}/deep-link-response``: only the API key that redeemed the launch may answer."""

    def __init__(self, db: Database, handoff: HandoffService, keyring: KeyRing, config: LtiConfig) -> None:
        self._db = db
        self._handoff = handoff
        self._keyring = keyring
        self._config = config

    def respond(self, launch_id: str, key: ApiKey, body: Mapping[str, Any]) -> dict[str, Any]:
        self._handoff.get(launch_id, key)  # LAUNCH_NOT_FOUND unless this key redeemed it, in time
        with self._db.transaction() as s:
            row = DeepLinkRequestRepository(s).get(launch_id)
            registration = get_registration(s, row.registration_id) if row is not None else None
            if row is None or registration is None:
                raise errors.NotDeepLinking()
            settings, deployment_id = dict(row.settings), row.deployment_id
        items = check_items(body, settings, self._config)
        claims = response_claims(
            issuer=registration.issuer, client_id=registration.client_id, deployment_id=deployment_id,
            settings=settings, items=items, messages=body,
        )
        token = self._keyring.signing_key().sign(claims)
        with self._db.transaction() as s:
            found = DeepLinkRequestRepository(s).get(launch_id)
            if found is not None:
                found.responded_at = utcnow()
        return {
            "jwt": token,
            "return_url": settings["deep_link_return_url"],
            "form_html": auto_post_form(settings["deep_link_return_url"], token),
            "content_items": items,
        }
