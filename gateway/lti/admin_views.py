"""``/api/v1/admin/lti/...``: LMS registrations and deployments over the API (scope ``admin``).

The same operations as ``gateway registrations|deployments``, through :mod:`gateway.lti.management`.
Writes take ``Idempotency-Key`` and run in the request's unit of work, with their audit entry
(actor ``api_key:<id>``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, request

from gateway.api.auth import current_api_key, require_scope
from gateway.api.idempotency import idempotent, unit_of_work
from gateway.errors import BadRequest, ValidationFailed
from gateway.lti import management
from gateway.lti.service import LtiServices
from gateway.web import core, json_response, services

bp = Blueprint("lti_admin", __name__, url_prefix="/api/v1/admin/lti")

MAX_PAGE = 500


def _actor() -> str:
    return f"api_key:{current_api_key().id}"


def _https() -> bool:
    return core().settings.is_production


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("Send a JSON object.")
    return body


def _limit() -> int:
    raw = request.args.get("limit")
    if raw is None:
        return 100
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise ValidationFailed(extra={"errors": [{"field": "limit", "message": f"must be 1 to {MAX_PAGE}"}]})
    return int(raw)


def _page(page: management.Page) -> Response:
    headers: dict[str, str] = {}
    if page.next_cursor:
        query = {k: v for k, v in request.args.items() if k != "cursor"} | {"cursor": page.next_cursor}
        headers["Link"] = f'<{request.base_url}?{urlencode(query)}>; rel="next"'
    return json_response({"data": page.data, "next_cursor": page.next_cursor}, headers=headers)


# -- registrations --------------------------------------------------------------------------------------


@bp.get("/registrations")
@require_scope("admin")
def list_registrations() -> Response:
    with core().db.transaction() as s:
        page = management.list_registrations(
            s, status=request.args.get("status"), cursor=request.args.get("cursor"), limit=_limit()
        )
    return _page(page)


@bp.post("/registrations")
@require_scope("admin")
@idempotent
def create_registration() -> Response:
    body = _body()
    with unit_of_work() as s:
        document = management.create_registration(s, body, actor=_actor(), require_https=_https(),
                                                   option_checks=services(LtiServices).option_checks)
    return json_response(document, 201, headers={"Location": f"{bp.url_prefix}/registrations/{document['id']}"})


@bp.get("/registrations/<registration_id>")
@require_scope("admin")
def get_registration(registration_id: str) -> Response:
    with core().db.transaction() as s:
        return json_response(management.show_registration(s, registration_id))


@bp.patch("/registrations/<registration_id>")
@require_scope("admin")
@idempotent
def update_registration(registration_id: str) -> Response:
    body = _body()
    with unit_of_work() as s:
        document = management.update_registration(s, registration_id, body, actor=_actor(), require_https=_https(),
                                                   option_checks=services(LtiServices).option_checks)
    return json_response(document)


@bp.post("/registrations/<registration_id>/disable")
@require_scope("admin")
@idempotent
def disable_registration(registration_id: str) -> Response:
    with unit_of_work() as s:
        return json_response(management.set_registration_status(s, registration_id, "disabled", actor=_actor()))


@bp.post("/registrations/<registration_id>/enable")
@require_scope("admin")
@idempotent
def enable_registration(registration_id: str) -> Response:
    with unit_of_work() as s:
        return json_response(management.set_registration_status(s, registration_id, "active", actor=_actor()))


@bp.post("/registrations/<registration_id>/deployments")
@require_scope("admin")
@idempotent
def add_deployment(registration_id: str) -> Response:
    body = _body()
    unknown = sorted(set(body) - {"deployment_id", "name"})
    if unknown:
        problems = [{"field": f, "message": "is not a deployment field"} for f in unknown]
        raise ValidationFailed(extra={"errors": problems})
    with unit_of_work() as s:
        document = management.add_deployment(
            s, registration_id, body.get("deployment_id"), name=body.get("name"), actor=_actor()
        )
    return json_response(document, 201)


# -- deployments ----------------------------------------------------------------------------------------


@bp.get("/deployments")
@require_scope("admin")
def list_deployments() -> Response:
    with core().db.transaction() as s:
        page = management.list_deployments(
            s, registration_id=request.args.get("registration_id"), status=request.args.get("status"),
            cursor=request.args.get("cursor"), limit=_limit(),
        )
    return _page(page)


@bp.post("/deployments/<deployment_ref>/approve")
@require_scope("admin")
@idempotent
def approve_deployment(deployment_ref: str) -> Response:
    with unit_of_work() as s:
        return json_response(management.set_deployment_status(s, deployment_ref, "active", actor=_actor()))


@bp.post("/deployments/<deployment_ref>/disable")
@require_scope("admin")
@idempotent
def disable_deployment(deployment_ref: str) -> Response:
    with unit_of_work() as s:
        return json_response(management.set_deployment_status(s, deployment_ref, "disabled", actor=_actor()))
