"""``/api/v1/deliveries``: the status of every outbound write, and replay of failed and dead ones.

Scope ``writeback``. A key sees the rows it enqueued; a key that also carries ``admin``
sees every key's rows (the operator's dead-letter view).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from gateway.api.auth import current_api_key, require_scope
from gateway.api.cursor import Page
from gateway.api.idempotency import idempotent, unit_of_work
from gateway.api.params import actor, choice, cursor, invalid, json_object, limit
from gateway.api.responses import page_response
from gateway.store.models.writeback import REPLAYABLE, STATES
from gateway.web import json_response, services
from gateway.writeback.service import WritebackServices

bp = Blueprint("deliveries", __name__, url_prefix="/api/v1")

MAX_PAGE = 200
MAX_REPLAY = 1000


def _scope() -> str | None:
    key = current_api_key()
    return None if key.has("admin") else key.id


@bp.get("/deliveries")
@require_scope("writeback")
def list_deliveries() -> Response:
    state = choice("state", STATES)
    page = Page(*services(WritebackServices).outbox.page(
        scope=_scope(), state=state, backend=request.args.get("backend") or None,
        kind=request.args.get("kind") or None, cursor=cursor(), limit=limit(50, MAX_PAGE),
    ))
    return page_response(page)


@bp.get("/deliveries/<delivery_id>")
@require_scope("writeback")
def get_delivery(delivery_id: str) -> Response:
    return json_response(services(WritebackServices).outbox.get(delivery_id, scope=_scope()))


@bp.post("/deliveries/<delivery_id>/replay")
@require_scope("writeback")
@idempotent
def replay_delivery(delivery_id: str) -> Response:
    with unit_of_work() as session:
        document = services(WritebackServices).outbox.replay_one(session, delivery_id, scope=_scope(), actor=actor())
    return json_response(document, 202)


def _replay_body() -> dict[str, Any]:
    body = json_object({"ids", "state", "limit"})
    if ("ids" in body) == ("state" in body):
        raise invalid("ids", "Give exactly one of `ids` (a list of delivery ids) or `state` (`dead` or `failed`).")
    if "ids" in body:
        ids = body["ids"]
        if not isinstance(ids, list) or not ids or len(ids) > MAX_REPLAY or not all(isinstance(i, str) for i in ids):
            raise invalid("ids", f"`ids` must be a list of 1 to {MAX_REPLAY} delivery ids.")
        if "limit" in body:
            raise invalid("limit", "`limit` goes with `state`, not with `ids`.")
    elif body["state"] not in REPLAYABLE:
        raise invalid("state", "`state` must be `dead` or `failed`.")
    count = body.get("limit", MAX_REPLAY)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_REPLAY:
        raise invalid("limit", f"`limit` must be an integer from 1 to {MAX_REPLAY}.")
    return {"ids": body.get("ids"), "state": body.get("state"), "limit": count}


@bp.post("/deliveries/replay")
@require_scope("writeback")
@idempotent
def replay_deliveries() -> Response:
    body = _replay_body()
    outbox = services(WritebackServices).outbox
    with unit_of_work() as session:
        if body["ids"] is not None:
            report = outbox.replay(session, body["ids"], scope=_scope(), actor=actor())
            report["more"] = False
        else:
            report = outbox.replay_state(session, body["state"], scope=_scope(), actor=actor(), limit=body["limit"])
    return json_response(report, 202)
