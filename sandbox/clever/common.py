"""Helpers shared by the simulated Clever's routes: who is calling, errors, list envelopes and paging."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, g, jsonify, request

from sandbox.clever.state import CleverSim, SsoToken


def sim() -> CleverSim:
    state: CleverSim = current_app.extensions["clever_sim"]
    return state


def error(status: int, message: str) -> Response:
    """Clever's error body: ``{"message": ...}`` (spec ``BadRequest``/``NotFound``/``InternalError``)."""
    response = jsonify({"message": message})
    response.status_code = status
    return response


def html(status: int, text: str) -> Response:
    """Clever answers some wrong-token calls with a web page (Clever's error-messages page); off-spec on purpose."""
    g.sim_off_spec = "html"
    return Response(f"<!doctype html><html><body><h1>{text}</h1></body></html>", status=status,
                    mimetype="text/html")


@dataclass(frozen=True)
class Caller:
    kind: str  # none | basic | sso | district | invalid
    token: str = ""
    sso: SsoToken | None = None
    district_id: str = ""


def caller() -> Caller:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    state = sim()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return Caller("invalid")
        client_id, _, secret = decoded.partition(":")
        ok = client_id == state.client_id and secret == state.client_secret
        return Caller("basic") if ok else Caller("invalid")
    if scheme.lower() != "bearer" or not value:
        return Caller("none")
    with state.lock:
        if value in state.sso_tokens:
            return Caller("sso", value, sso=state.sso_tokens[value])
        if value in state.district_tokens:
            return Caller("district", value, district_id=state.district_tokens[value].district_id)
    return Caller("invalid", value)


def unauthorized() -> Response:
    return error(401, "Unauthorized")


def page(items: list[dict[str, Any]], *, wrap: bool = True) -> Response:
    """Slice ``items`` (sorted by id) by ``limit``/``starting_after``/``ending_before``; add ``links``."""
    args = request.args
    try:
        limit = int(args.get("limit", sim().default_page_size))
    except ValueError:
        return error(400, "limit must be an integer")
    if limit > 10000:
        return error(413, "limit must not exceed 10000")
    limit = max(limit, 1)
    after, before = args.get("starting_after"), args.get("ending_before")
    if before == "last":
        chosen, more = items[-limit:], False
    elif before:
        earlier = [i for i in items if i["id"] < before]
        chosen, more = earlier[-limit:], False
    else:
        rest = [i for i in items if not after or i["id"] > after]
        chosen, more = rest[:limit], len(rest) > limit
    links = [{"rel": "self", "uri": _uri(dict(args.lists()))}]
    if more and chosen:
        params = {k: v for k, v in args.lists() if k not in ("starting_after", "ending_before")}
        params["starting_after"] = [chosen[-1]["id"]]
        params["limit"] = [str(limit)]
        links.append({"rel": "next", "uri": _uri(params)})
    data = [{"data": item} if wrap else item for item in chosen]
    return jsonify({"data": data, "links": links})


def _uri(params: dict[str, list[str]]) -> str:
    query = urlencode([(k, v) for k, values in params.items() for v in values])
    return request.path + (f"?{query}" if query else "")


def one(record: dict[str, Any] | None, what: str) -> Response:
    if record is None:
        return error(404, f"{what} not found")
    return jsonify({"data": record})
