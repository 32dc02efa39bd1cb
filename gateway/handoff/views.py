"""``POST /api/v1/launches/redeem`` and ``GET /api/v1/launches/{id}``."""

from __future__ import annotations

from flask import Blueprint, Response

from gateway.api.auth import current_api_key, require_scope
from gateway.api.params import invalid, json_object
from gateway.handoff.service import HandoffService
from gateway.web import json_response, services

bp = Blueprint("handoff", __name__, url_prefix="/api/v1/launches")


@bp.post("/redeem")
@require_scope("launches")
def redeem() -> Response:
    code = json_object().get("code")
    if not isinstance(code, str):
        raise invalid("code", "Send the one-time `code` from the launch URL.")
    return json_response(services(HandoffService).redeem(code, current_api_key()))


@bp.get("/<launch_id>")
@require_scope("launches")
def get_launch(launch_id: str) -> Response:
    return json_response(services(HandoffService).get(launch_id, current_api_key()))
