"""``/api/v1/deliveries``: the status of every outbound write, and replay of failed and dead ones.

Scope ``writeback``. A key sees the rows it enqueued; a key that also carries ``admin``
sees every key's rows (the operator's dead-letter view).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, request

from gateway.api.auth import current_api_key, require_scope
from gateway.api.idempotency import idempotent, unit_of_work
from gateway.errors import ValidationFailed
from gateway.store.models.writeback import REPLAYABLE, STATES
from gateway.web import json_response, services

bp = Blueprint("deliveries", __name__, url_prefix="/api/v1")

MAX_PAGE = 200
MAX_REPLAY = 1000


def _scope() -> str | None:
    key = current_api_key()
    return None if key.has("admin") else key.id


def _actor() -> str:
    return f"api_key:{current_api_key().id}"


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, extra={"errors": [{"field": field, "message": message}]})


def _limit(raw: str | None, default: int, maximum: int) -> int:
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise _invalid("limit", f"`limit` must be an integer from 1 to {maximum}.")
    return int(raw)


@bp.get("/deliveries")
@require_scope("writeback")
def list_deliveries() -> Response:
    state = request.args.get("state")
    if state is not None and state not in STATES:
        raise _invalid("state", f"`state` must be one of {', '.join(STATES)}.")
    limit = _limit(request.args.get("limit"), 50, MAX_PAGE)
    documents, next_cursor = services().outbox.page(
        scope=_scope(), state=state, backend=request.args.get("backend") or None,
        kind=request.args.get("kind") or None, cursor=request.args.get("cursor"), limit=limit,
    )
    headers: dict[str, str] = {}
    if next_cursor:
        query = {k: v for k, v in request.args.items() if k != "cursor"} | {"cursor": next_cursor}
        link = request.base_url + "?" + urlencode(query)
        headers["Link"] = f'<{link}>; rel="next"'
    return json_response({"data": documents, "next_cursor": next_cursor}, headers=headers)


@bp.get("/deliveries/<delivery_id>")
@require_scope("writeback")
def get_delivery(delivery_id: str) -> Response:
    return json_response(services().outbox.get(delivery_id, scope=_scope()))


@bp.post("/deliveries/<delivery_id>/replay")
@require_scope("writeback")
@idempotent
def replay_delivery(delivery_id: str) -> Response:
    with unit_of_work() as session:
        document = services().outbox.replay_one(session, delivery_id, scope=_scope(), actor=_actor())
    return json_response(document, 202)


def _replay_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise _invalid("body", "Send a JSON object with `ids` or `state`.")
    unknown = sorted(set(body) - {"ids", "state", "limit"})
    if unknown:
        raise _invalid(unknown[0], f"Unknown field `{unknown[0]}`.")
    if ("ids" in body) == ("state" in body):
        raise _invalid("ids", "Give exactly one of `ids` (a list of delivery ids) or `state` (`dead` or `failed`).")
    if "ids" in body:
        ids = body["ids"]
        if not isinstance(ids, list) or not ids or len(ids) > MAX_REPLAY or not all(isinstance(i, str) for i in ids):
            raise _invalid("ids", f"`ids` must be a list of 1 to {MAX_REPLAY} delivery ids.")
        if "limit" in body:
            raise _invalid("limit", "`limit` goes with `state`, not with `ids`.")
    elif body["state"] not in REPLAYABLE:
        raise _invalid("state", "`state` must be `dead` or `failed`.")
    limit = body.get("limit", MAX_REPLAY)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_REPLAY:
        raise _invalid("limit", f"`limit` must be an integer from 1 to {MAX_REPLAY}.")
    return {"ids": body.get("ids"), "state": body.get("state"), "limit": limit}


@bp.post("/deliveries/replay")
@require_scope("writeback")
@idempotent
def replay_deliveries() -> Response:
    body = _replay_body()
    outbox = services().outbox
    with unit_of_work() as session:
        if body["ids"] is not None:
            report = outbox.replay(session, body["ids"], scope=_scope(), actor=_actor())
            report["more"] = False
        else:
            report = outbox.replay_state(session, body["state"], scope=_scope(), actor=_actor(), limit=body["limit"])
    return json_response(report, 202)
