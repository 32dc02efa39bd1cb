"""The identity admin API, ``/api/v1/admin/identity/...`` (scope ``admin``). Thin: :mod:`gateway.identity.admin` acts.

Writes take ``Idempotency-Key`` and run in the key's transaction (``unit_of_work``), audited with the calling key.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from gateway.api.auth import require_scope
from gateway.api.idempotency import idempotent, unit_of_work
from gateway.api.params import actor, choice, choices, cursor, invalid, json_object, limit
from gateway.api.problems import handle_gateway_error
from gateway.api.responses import page_response
from gateway.identity.admin import CONFLICT_STATUSES, UNMATCHED_STATUSES, IdentityAdmin, require_reason
from gateway.identity.rules import KEYS, RuleInvalid
from gateway.identity.service import IdentityServices
from gateway.web import core, json_response, services

bp = Blueprint("identity_api", __name__, url_prefix="/api/v1/admin/identity")


@bp.errorhandler(RuleInvalid)
def _rule_invalid(error: RuleInvalid) -> Response:
    """A matching rule of the wrong type is a bad field, answered like every other."""
    return handle_gateway_error(invalid(error.key, str(error)))


def _admin() -> IdentityAdmin:
    return services(IdentityServices).admin


@bp.get("/users/<user_id>")
@require_scope("admin")
def user(user_id: str) -> Response:
    with core().db.transaction() as s:
        return json_response(_admin().user_view(s, user_id))


@bp.get("/lti-identities")
@require_scope("admin")
def lti_identities() -> Response:
    """Find people by their LTI 1.1 identity: ``oauth_consumer_key`` (required) and ``lti11_user_id``."""
    consumer_key, user_id = request.args.get("oauth_consumer_key"), request.args.get("lti11_user_id")
    if not consumer_key or len(consumer_key) > 255:
        raise invalid("oauth_consumer_key", "Give `oauth_consumer_key`: the LTI 1.1 consumer key (1-255 characters).")
    if user_id is not None and not 1 <= len(user_id) <= 255:
        raise invalid("lti11_user_id", "`lti11_user_id` must be an LTI 1.1 user id of 1-255 characters.")
    page_limit = limit()
    with core().db.transaction() as s:
        page = _admin().lti11_identities(s, consumer_key, user_id, cursor(), page_limit)
    return page_response(page)


@bp.post("/lti-identities/<lti_identity_id>/link")
@require_scope("admin")
@idempotent
def link(lti_identity_id: str) -> Response:
    body = json_object({"clever_user_id", "reason"})
    clever_user_id = body.get("clever_user_id")
    if not isinstance(clever_user_id, str) or not 1 <= len(clever_user_id.strip()) <= 64:
        raise invalid("clever_user_id", "`clever_user_id` must be a Clever user id.")
    reason = require_reason(body.get("reason"))
    with unit_of_work() as s:
        view = _admin().link(s, lti_identity_id, clever_user_id.strip(), reason=reason, actor=actor())
    return json_response(view)


@bp.post("/lti-identities/<lti_identity_id>/unlink")
@require_scope("admin")
@idempotent
def unlink(lti_identity_id: str) -> Response:
    reason = require_reason(json_object({"reason"}).get("reason"))
    with unit_of_work() as s:
        view = _admin().unlink(s, lti_identity_id, reason=reason, actor=actor())
    return json_response(view)


@bp.get("/conflicts")
@require_scope("admin")
def conflicts() -> Response:
    status = choice("status", (*CONFLICT_STATUSES, "all"), default="open")
    page_limit = limit()
    with core().db.transaction() as s:
        page = _admin().conflicts(s, None if status == "all" else status, cursor(), page_limit)
    return page_response(page)


@bp.post("/conflicts/<conflict_id>/resolve")
@require_scope("admin")
@idempotent
def resolve(conflict_id: str) -> Response:
    reason = require_reason(json_object({"reason"}).get("reason"))
    with unit_of_work() as s:
        view = _admin().resolve_conflict(s, conflict_id, reason=reason, actor=actor())
    return json_response(view)


@bp.get("/unmatched")
@require_scope("admin")
def unmatched() -> Response:
    statuses = choices("status", UNMATCHED_STATUSES)
    page_limit = limit()
    with core().db.transaction() as s:
        page = _admin().unmatched(s, statuses, district_id=request.args.get("district_id"),
                                  registration_id=request.args.get("registration"), cursor=cursor(), limit=page_limit)
    return page_response(page)


@bp.put("/deployments/<deployment_ref>/district")
@require_scope("admin")
@idempotent
def deployment_district(deployment_ref: str) -> Response:
    body = json_object({"district_id", "reason"})
    if "district_id" not in body:
        raise invalid("district_id", "Send `district_id`: a Clever district id, or null to unlink.")
    district_id = body["district_id"]
    if district_id is not None and (not isinstance(district_id, str) or not 1 <= len(district_id) <= 64):
        raise invalid("district_id", "`district_id` must be a Clever district id or null.")
    reason = require_reason(body.get("reason"))
    with unit_of_work() as s:
        view = _admin().set_deployment_district(s, deployment_ref, district_id, reason=reason, actor=actor())
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
    body = json_object(KEYS)
    with unit_of_work() as s:
        view = _admin().set_rules(s, registration_id, body, actor=actor())
    return json_response(view)
