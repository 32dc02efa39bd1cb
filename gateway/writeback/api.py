"""``/api/v1/contexts``: what a context allows, its assignments, and grades (scope ``writeback``).

Thin: each view turns the request into a call of :class:`~gateway.writeback.service.WritebackService`
inside the idempotency unit of work, and its result into JSON. Writes answer ``202`` with the delivery
they queued (``GET /api/v1/deliveries/{id}`` follows it). Documented in ``openapi.yaml``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, request

from gateway.api.auth import current_api_key, require_scope
from gateway.api.cursor import Page
from gateway.api.idempotency import idempotent, unit_of_work
from gateway.api.params import actor, cursor, flag, invalid, limit
from gateway.api.responses import page_response
from gateway.store.models.base import utcnow
from gateway.web import json_response, services
from gateway.writeback.service import WritebackService, WritebackServices

bp = Blueprint("writeback_api", __name__, url_prefix="/api/v1/contexts")

MAX_PAGE = 200
_ASSIGNMENT = "/<context_id>/assignments/<assignment_id>"


def _service() -> WritebackService:
    return services(WritebackServices).service


def _body() -> Any:
    # Raw on purpose: the service's validation refuses a body that is not a JSON object with the toolkit's words,
    # after it has found the context (a missing context is 404 whatever the body).
    return request.get_json(silent=True)


def _path(*parts: str) -> str:
    return "/api/v1/contexts/" + "/".join(quote(p, safe=":") for p in parts)


@bp.get("/<context_id>")
@require_scope("writeback")
def get_context(context_id: str) -> Response:
    with unit_of_work() as s:
        return json_response(_service().context(s, context_id))


@bp.get("/<context_id>/members")
@require_scope("roster")
def list_members(context_id: str) -> Response:
    """An LTI course's roster over Names and Roles (gateway.writeback.roster)."""
    role = request.args.get("role") or None
    if role is not None and (len(role) > 200 or not role.isprintable()):
        raise invalid("role", "`role` must be a role name (`Learner`) or URI of at most 200 characters.")
    page_limit, changes = limit(50, MAX_PAGE), flag("changes")
    page = Page(*services(WritebackServices).roster.members(context_id, role=role, limit=page_limit,
                                                             cursor=cursor(), changes=changes))
    return page_response(page)


@bp.get("/<context_id>/assignments")
@require_scope("writeback")
def list_assignments(context_id: str) -> Response:
    page_limit, include_deleted = limit(50, MAX_PAGE), flag("include_deleted")
    with unit_of_work() as s:
        page = Page(*_service().list_assignments(s, context_id, cursor=cursor(), limit=page_limit,
                                                 include_deleted=include_deleted))
    return page_response(page)


@bp.post("/<context_id>/assignments")
@require_scope("writeback")
@idempotent
def create_assignment(context_id: str) -> Response:
    key = current_api_key()
    with unit_of_work() as s:
        made = _service().create_assignment(s, context_id, _body(), api_key_id=key.id, actor=actor(), now=utcnow())
    location = _path(context_id, "assignments", made["assignment"]["id"])
    return json_response(made, 202, headers={"Location": location})


@bp.get(_ASSIGNMENT)
@require_scope("writeback")
def get_assignment(context_id: str, assignment_id: str) -> Response:
    with unit_of_work() as s:
        return json_response(_service().get_assignment(s, context_id, assignment_id))


@bp.patch(_ASSIGNMENT)
@require_scope("writeback")
@idempotent
def update_assignment(context_id: str, assignment_id: str) -> Response:
    key = current_api_key()
    with unit_of_work() as s:
        made = _service().update_assignment(s, context_id, assignment_id, _body(), api_key_id=key.id,
                                            actor=actor(), now=utcnow())
    return json_response(made, 202)


@bp.delete(_ASSIGNMENT)
@require_scope("writeback")
@idempotent
def delete_assignment(context_id: str, assignment_id: str) -> Response:
    key = current_api_key()
    with unit_of_work() as s:
        made = _service().delete_assignment(s, context_id, assignment_id, api_key_id=key.id, actor=actor(),
                                            now=utcnow())
    return json_response(made, 202)


@bp.put(_ASSIGNMENT + "/grades/<user_id>")
@require_scope("writeback")
@idempotent
def put_grade(context_id: str, assignment_id: str, user_id: str) -> Response:
    key = current_api_key()
    with unit_of_work() as s:
        made = _service().put_grade(s, context_id, assignment_id, user_id, _body(), api_key_id=key.id, now=utcnow())
    return json_response(made, 202, headers={"Location": f"/api/v1/deliveries/{made['delivery']['id']}"})


@bp.post(_ASSIGNMENT + "/grades")
@require_scope("writeback")
@idempotent
def put_grades(context_id: str, assignment_id: str) -> Response:
    key = current_api_key()
    with unit_of_work() as s:
        made = _service().put_grades(s, context_id, assignment_id, _body(), api_key_id=key.id, actor=actor(),
                                     now=utcnow())
    return json_response(made, 202)
