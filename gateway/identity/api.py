"""The identity admin API, ``/api/v1/admin/identity/...`` (scope ``admin``). Thin: :mod:`gateway.identity.admin` acts.

Writes take ``Idempotency-Key`` and run in the key's transaction (``unit_of_work``), audited with the calling key.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from gateway.api.auth import current_api_key, require_scope
from gateway.api.idempotency import idempotent, unit_of_work
from gateway.errors import ValidationFailed
from gateway.identity.admin import CONFLICT_STATUSES, UNMATCHED_STATUSES, IdentityAdmin, require_reason
from gateway.identity.rules import KEYS, RuleInvalid
from gateway.identity.service import IdentityServices
from gateway.web import core, json_response, services

bp = Blueprint("identity_api", __name__, url_prefix="/api/v1/admin/identity")

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


def _admin() -> IdentityAdmin:
    return services(IdentityServices).admin


def _actor() -> str:
    return f"api_key:{current_api_key().id}"


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, extra={"errors": [{"field": field, "message": message}]})


def _limit() -> int:
    raw = request.args.get("limit", str(DEFAULT_LIMIT))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise _invalid("limit", f"`limit` must be an integer from 1 to {MAX_LIMIT}.")
    return int(raw)


def _body(allowed: set[str]) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise _invalid("body", "Send a JSON object.")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise _invalid(unknown[0], f"Unknown field `{unknown[0]}`.")
    return body


def _page(data: list[dict[str, Any]], next_cursor: str | None) -> Response:
    return json_response({"data": data, "next_cursor": next_cursor})


@bp.get("/users/<user_id>")
@require_scope("admin")
def user(user_id: str) -> Response:
    with core().db.transaction() as s:
        return json_response(_admin().user_view(s, user_id))


@bp.post("/lti-identities/<lti_identity_id>/link")
@require_scope("admin")
@idempotent
def link(lti_identity_id: str) -> Response:
    body = _body({"clever_user_id", "reason"})
    clever_user_id = body.get("clever_user_id")
    if not isinstance(clever_user_id, str) or not 1 <= len(clever_user_id.strip()) <= 64:
        raise _invalid("clever_user_id", "`clever_user_id` must be a Clever user id.")
    reason = require_reason(body.get("reason"))
    with unit_of_work() as s:
        view = _admin().link(s, lti_identity_id, clever_user_id.strip(), reason=reason, actor=_actor())
    return json_response(view)


@bp.post("/lti-identities/<lti_identity_id>/unlink")
@require_scope("admin")
@idempotent
def unlink(lti_identity_id: str) -> Response:
    reason = require_reason(_body({"reason"}).get("reason"))
    with unit_of_work() as s:
        view = _admin().unlink(s, lti_identity_id, reason=reason, actor=_actor())
    return json_response(view)


@bp.get("/conflicts")
@require_scope("admin")
def conflicts() -> Response:
    status = request.args.get("status", "open")
    if status not in (*CONFLICT_STATUSES, "all"):
        raise _invalid("status", "`status` must be open, resolved or all.")
    with core().db.transaction() as s:
        return _page(*_admin().conflicts(s, None if status == "all" else status, request.args.get("cursor"),
                                         _limit()))


@bp.post("/conflicts/<conflict_id>/resolve")
@require_scope("admin")
@idempotent
def resolve(conflict_id: str) -> Response:
    reason = require_reason(_body({"reason"}).get("reason"))
    with unit_of_work() as s:
        view = _admin().resolve_conflict(s, conflict_id, reason=reason, actor=_actor())
    return json_response(view)


@bp.get("/unmatched")
@require_scope("admin")
def unmatched() -> Response:
    statuses = request.args.getlist("status") or list(UNMATCHED_STATUSES)
    if not set(statuses) <= set(UNMATCHED_STATUSES):
        raise _invalid("status", "`status` must be unmatched, conflict or unlinked.")
    with core().db.transaction() as s:
        return _page(*_admin().unmatched(s, statuses, district_id=request.args.get("district_id"),
                                         registration_id=request.args.get("registration"),
                                         cursor=request.args.get("cursor"), limit=_limit()))


@bp.put("/deployments/<deployment_ref>/district")
@require_scope("admin")
@idempotent
def deployment_district(deployment_ref: str) -> Response:
    body = _body({"district_id", "reason"})
    if "district_id" not in body:
        raise _invalid("district_id", "Send `district_id`: a Clever district id, or null to unlink.")
    district_id = body["district_id"]
    if district_id is not None and (not isinstance(district_id, str) or not 1 <= len(district_id) <= 64):
        raise _invalid("district_id", "`district_id` must be a Clever district id or null.")
    reason = require_reason(body.get("reason"))
    with unit_of_work() as s:
        view = _admin().set_deployment_district(s, deployment_ref, district_id, reason=reason, actor=_actor())
    return json_response(view)


@bp.get("/registrations/<registration_id>/rules")
@require_scope("admin")
def rules(registration_id: str) -> Response:
    with core().db.transaction() as s:
        return json_response(_admin().rules(s, registration_id))


@bp.patch("/registrations/<registration_id>/rules")
@require_scope("admin")
@idempotent
def set_rules(registration_id: str) -> Response:
    body = _body(set(KEYS))
    with unit_of_work() as s:
        try:
            view = _admin().set_rules(s, registration_id, body, actor=_actor())
        except RuleInvalid as e:
            raise _invalid(e.key, str(e)) from e
    return json_response(view)
