"""The roster API for the vendor app: ``/api/v1/clever/...`` (scope ``roster``; the sync trigger needs ``admin``)."""

from __future__ import annotations

from flask import Blueprint, Response

from gateway.api.auth import require_scope
from gateway.api.params import actor, choice, cursor, flag, invalid, json_object, limit
from gateway.api.responses import page_response
from gateway.clever.service import CleverServices
from gateway.web import json_response, services

bp = Blueprint("clever_api", __name__, url_prefix="/api/v1/clever")


@bp.get("/districts")
@require_scope("roster")
def districts() -> Response:
    return page_response(services(CleverServices).roster.districts(cursor(), limit()))


@bp.get("/districts/<district_id>")
@require_scope("roster")
def district(district_id: str) -> Response:
    return json_response(services(CleverServices).roster.district(district_id))


@bp.get("/districts/<district_id>/sections")
@require_scope("roster")
def sections(district_id: str) -> Response:
    reader = services(CleverServices).roster
    return page_response(reader.sections(district_id, cursor(), limit(), flag("include_archived")))


@bp.get("/sections/<section_id>/users")
@require_scope("roster")
def section_users(section_id: str) -> Response:
    role = choice("role", ("teacher", "student"))
    reader = services(CleverServices).roster
    return page_response(reader.section_users(section_id, role, cursor(), limit(), flag("include_archived")))


@bp.get("/users/<user_id>")
@require_scope("roster")
def user(user_id: str) -> Response:
    return json_response(services(CleverServices).roster.user(user_id))


@bp.post("/districts/<district_id>/sync")
@require_scope("admin")
def sync(district_id: str) -> Response:
    full = json_object({"full"}, required=False).get("full", False)
    if not isinstance(full, bool):
        raise invalid("full", "`full` must be true or false.")
    return json_response(services(CleverServices).request_sync(district_id, full=full, actor=actor()), 202)
