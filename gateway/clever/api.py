"""The roster API for the vendor app: ``/api/v1/clever/...`` (scope ``roster``; the sync trigger needs ``admin``)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from gateway.api.auth import current_api_key, require_scope
from gateway.clever.service import CleverServices
from gateway.errors import BadRequest
from gateway.store.repositories.audit import AuditRepository
from gateway.web import core, json_response, services

bp = Blueprint("clever_api", __name__, url_prefix="/api/v1/clever")

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


def _limit() -> int:
    raw = request.args.get("limit", str(DEFAULT_LIMIT))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest(f"`limit` must be an integer from 1 to {MAX_LIMIT}.")
    return int(raw)


def _flag(name: str) -> bool:
    raw = request.args.get(name, "false").lower()
    if raw not in ("true", "false"):
        raise BadRequest(f"`{name}` must be true or false.")
    return raw == "true"


def _page(data: list[dict[str, object]], next_cursor: str | None) -> Response:
    return json_response({"data": data, "next_cursor": next_cursor})


@bp.get("/districts")
@require_scope("roster")
def districts() -> Response:
    return _page(*services(CleverServices).roster.districts(request.args.get("cursor"), _limit()))


@bp.get("/districts/<district_id>")
@require_scope("roster")
def district(district_id: str) -> Response:
    return json_response(services(CleverServices).roster.district(district_id))


@bp.get("/districts/<district_id>/sections")
@require_scope("roster")
def sections(district_id: str) -> Response:
    reader = services(CleverServices).roster
    return _page(*reader.sections(district_id, request.args.get("cursor"), _limit(), _flag("include_archived")))


@bp.get("/sections/<section_id>/users")
@require_scope("roster")
def section_users(section_id: str) -> Response:
    role = request.args.get("role")
    if role not in (None, "teacher", "student"):
        raise BadRequest("`role` must be teacher or student.")
    reader = services(CleverServices).roster
    return _page(*reader.section_users(section_id, role, request.args.get("cursor"), _limit(),
                                       _flag("include_archived")))


@bp.get("/users/<user_id>")
@require_scope("roster")
def user(user_id: str) -> Response:
    return json_response(services(CleverServices).roster.user(user_id))


@bp.post("/districts/<district_id>/sync")
@require_scope("admin")
def sync(district_id: str) -> Response:
    body = request.get_json(silent=True) if request.data else {}
    if not isinstance(body, dict) or not isinstance(body.get("full", False), bool) or set(body) - {"full"}:
        raise BadRequest("Send no body, or a JSON object with the boolean `full`.")
    clever = services(CleverServices)
    clever.sync.request(district_id, full=bool(body.get("full", False)))
    with core().db.transaction() as s:
        AuditRepository(s).record(f"api_key:{current_api_key().id}", "clever.sync.request",
                                  f"clever_district:{district_id}", full=bool(body.get("full", False)))
    return json_response(clever.roster.district(district_id), 202)
