"""``/api/v1/admin/lti/...``: LMS registrations and deployments over the API (scope ``admin``).

The same operations as ``gateway registrations|deployments``, through :mod:`gateway.lti.management`.
Writes take ``Idempotency-Key`` and run in the request's unit of work, with their audit entry
(actor ``api_key:<id>``).
"""

from __future__ import annotations

from flask import Blueprint, Response, request

import gateway.lti.management as management
from gateway.api.auth import require_scope
from gateway.api.idempotency import idempotent, unit_of_work
from gateway.api.params import actor, cursor, json_object, limit
from gateway.api.responses import page_response
from gateway.errors import ValidationFailed
from gateway.lti.service import LtiServices
from gateway.web import core, json_response, services

bp = Blueprint("lti_admin", __name__, url_prefix="/api/v1/admin/lti")


def _https() -> bool:
    return core().settings.is_production


# -- registrations --------------------------------------------------------------------------------------


@bp.get("/registrations")
@require_scope("admin")
def list_registrations() -> Response:
    page_limit = limit()
    with core().db.transaction() as s:
        page = management.list_registrations(s, status=request.args.get("status"), cursor=cursor(), limit=page_limit)
    return page_response(page)


@bp.post("/registrations")
@require_scope("admin")
@idempotent
def create_registration() -> Response:
    body = json_object()
    with unit_of_work() as s:
        document = management.create_registration(s, body, actor=actor(), require_https=_https(),
                                                   option_checks=services(LtiServices).option_checks,
                                                   cipher=core().cipher)
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
    body = json_object()
    with unit_of_work() as s:
        document = management.update_registration(s, registration_id, body, actor=actor(), require_https=_https(),
                                                   option_checks=services(LtiServices).option_checks,
                                                   cipher=core().cipher)
    return json_response(document)


@bp.post("/registrations/<registration_id>/disable")
@require_scope("admin")
@idempotent
def disable_registration(registration_id: str) -> Response:
    with unit_of_work() as s:
        return json_response(management.set_registration_status(s, registration_id, "disabled", actor=actor()))


@bp.post("/registrations/<registration_id>/enable")
@require_scope("admin")
@idempotent
def enable_registration(registration_id: str) -> Response:
    with unit_of_work() as s:
        return json_response(management.set_registration_status(s, registration_id, "active", actor=actor()))


@bp.post("/registrations/<registration_id>/deployments")
@require_scope("admin")
@idempotent
def add_deployment(registration_id: str) -> Response:
    body = json_object()
    unknown = sorted(set(body) - {"deployment_id", "name"})
    if unknown:
        problems = [{"field": f, "message": "is not a deployment field"} for f in unknown]
        raise ValidationFailed(extra={"errors": problems})
    with unit_of_work() as s:
        document = management.add_deployment(
            s, registration_id, body.get("deployment_id"), name=body.get("name"), actor=actor()
        )
    return json_response(document, 201)


# -- deployments ----------------------------------------------------------------------------------------


@bp.get("/deployments")
@require_scope("admin")
def list_deployments() -> Response:
    page_limit = limit()
    with core().db.transaction() as s:
        page = management.list_deployments(
            s, registration_id=request.args.get("registration_id"), status=request.args.get("status"),
            cursor=cursor(), limit=page_limit,
        )
    return page_response(page)


@bp.post("/deployments/<deployment_ref>/approve")
@require_scope("admin")
@idempotent
def approve_deployment(deployment_ref: str) -> Response:
    with unit_of_work() as s:
        return json_response(management.set_deployment_status(s, deployment_ref, "active", actor=actor()))


@bp.post("/deployments/<deployment_ref>/disable")
@require_scope("admin")
@idempotent
def disable_deployment(deployment_ref: str) -> Response:
    with unit_of_work() as s:
        return json_response(management.set_deployment_status(s, deployment_ref, "disabled", actor=actor()))
