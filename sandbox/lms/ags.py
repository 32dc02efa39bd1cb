"""The simulated platform's services: OAuth2 token endpoint, AGS 2.0 line items, scores and results, NRPS.

Spec-true where tools meet it: client_credentials with a JWT client assertion (RFC 7523);
IMS media types (score is ``application/vnd.ims.lis.v1.score+json``); ``scoreMaximum`` required with
``scoreGiven``; a score older than the last one answers 409; ``Link: <...>; rel="next"`` paging; scopes
enforced per route. Every request is recorded; ``SandboxPlatform.fail_next`` injects 429s and 5xx.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
import requests
from flask import Blueprint, Response, current_app, request

from gateway.lti import claims as c
from sandbox.lms.platform import Recorded, SandboxPlatform

bp = Blueprint("sandbox_lms_services", __name__)

LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEM_CONTAINER = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE = "application/vnd.ims.lis.v1.score+json"
RESULT_CONTAINER = "application/vnd.ims.lis.v2.resultcontainer+json"
MEMBERSHIP_CONTAINER = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SUPPORTED_SCOPES = frozenset((*c.AGS_SCOPES, c.NRPS_SCOPE))
ACTIVITY = frozenset({"Initialized", "Started", "InProgress", "Submitted", "Completed"})
GRADING = frozenset({"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"})


def _platform() -> SandboxPlatform:
    platform: SandboxPlatform = current_app.extensions["sandbox_lms"]
    return platform


def _json(body: Any, status: int = 200, media_type: str = "application/json",
          headers: dict[str, str] | None = None) -> Response:
    import json

    response = Response(json.dumps(body), status=status, mimetype=media_type)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _problem(status: int, error: str, description: str) -> Response:
    return _json({"error": error, "error_description": description}, status)


def _record(kind: str, status: int) -> None:
    body: Any = request.get_json(silent=True) if request.is_json or "json" in (request.content_type or "") else None
    if body is None and request.form:
        body = {k: v for k, v in request.form.items() if k != "client_assertion"}
    auth = request.headers.get("Authorization", "")
    _platform().record(Recorded(
        kind=kind, method=request.method, path=request.path, query=request.args.to_dict(),
        headers={"Content-Type": request.headers.get("Content-Type", ""), "Accept": request.headers.get("Accept", ""),
                 "Authorization": auth.split(" ", 1)[0]},
        body=body, status=status,
    ))


@bp.after_request
def _after(response: Response) -> Response:
    kind = "token" if request.path.endswith("/token") else "nrps" if "/nrps/" in request.path else "ags"
    if request.endpoint and request.endpoint.startswith("sandbox_lms_services."):
        _record(kind, response.status_code)
    return response


@bp.before_request
def _injected() -> Response | None:
    failure = _platform().take_failure(request.path)
    if failure is None:
        return None
    if failure.delay:
        time.sleep(failure.delay)
    return _json(failure.body, failure.status, headers=failure.headers)


# -- token endpoint -------------------------------------------------------------------------------------


@bp.post("/token")
def token() -> Response:
    platform, form = _platform(), request.form
    if form.get("grant_type") != "client_credentials":
        return _problem(400, "unsupported_grant_type", "grant_type must be client_credentials")
    if form.get("client_assertion_type") != ASSERTION_TYPE or not form.get("client_assertion"):
        return _problem(400, "invalid_request", "a JWT client assertion is required")
    try:
        claims = _verify_assertion(platform, form["client_assertion"])
    except ValueError as e:
        return _problem(401, "invalid_client", str(e))
    granted = [s for s in form.get("scope", "").split() if s in SUPPORTED_SCOPES]
    if not granted:
        return _problem(400, "invalid_scope", "none of the requested scopes is offered")
    with platform.lock:
        if claims["jti"] in platform.used_jti:
            return _problem(400, "invalid_grant", "the assertion's jti was already used")
        platform.used_jti.add(claims["jti"])
        access_token = secrets.token_urlsafe(24)
        platform.tokens[access_token] = (frozenset(granted), time.time() + 3600)
    return _json({"access_token": access_token, "token_type": "Bearer", "expires_in": 3600,
                  "scope": " ".join(granted)})


def _verify_assertion(platform: SandboxPlatform, assertion: str) -> dict[str, Any]:
    try:
        kid = jwt.get_unverified_header(assertion).get("kid")
        keys = platform.tool_keys()
    except (jwt.PyJWTError, requests.RequestException, ValueError) as e:
        raise ValueError(f"cannot read the assertion or the tool JWKS: {type(e).__name__}") from e
    if kid not in keys:
        raise ValueError("the assertion's kid is not in the tool's JWKS")
    try:
        claims: dict[str, Any] = jwt.decode(
            assertion, keys[kid].key, algorithms=["RS256"], audience=platform.token_audience,
            options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]}, leeway=5,
        )
    except jwt.PyJWTError as e:
        raise ValueError(f"the assertion is not valid: {type(e).__name__}") from e
    if claims["iss"] != platform.client_id or claims["sub"] != platform.client_id:
        raise ValueError("iss and sub must be the client id")
    if claims["iat"] > time.time() + 60:
        raise ValueError("the assertion was issued in the future")
    return claims


def _authorized(*scopes: str) -> Callable[[], Response | None]:
    def check() -> Response | None:
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        grant = _platform().tokens.get(presented) if scheme.lower() == "bearer" else None
        if grant is None or grant[1] < time.time():
            return _problem(401, "invalid_token", "a valid bearer token is required")
        if not set(scopes) & grant[0]:
            return _problem(403, "insufficient_scope", f"needs one of: {' '.join(scopes)}")
        return None

    return check


def _media(expected: str) -> Response | None:
    if (request.mimetype or "") != expected:
        return _problem(415, "unsupported_media_type", f"Content-Type must be {expected}")
    return None


# -- paging ---------------------------------------------------------------------------------------------


Page = tuple[list[dict[str, Any]], dict[str, str]]


def _page(items: list[dict[str, Any]], base_url: str, query: dict[str, str]) -> Page:
    try:
        limit = max(1, int(request.args.get("limit", "100")))
        limit = min(limit, _platform().page_cap or limit)
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        limit, page = 100, 1
    chunk = items[(page - 1) * limit: page * limit]
    headers: dict[str, str] = {}
    if page * limit < len(items):
        origin = _platform().next_link_origin
        if origin:
            base_url = origin + urlsplit(base_url).path
        link = f"{base_url}?{urlencode({**query, 'limit': str(limit), 'page': str(page + 1)})}"
        rel = "rel=next" if _platform().unquoted_link_rel else 'rel="next"'
        headers["Link"] = f"<{link}>; {rel}"
    return chunk, headers


# -- line items -----------------------------------------------------------------------------------------


def _line_item_url(platform: SandboxPlatform, item_id: str) -> str:
    return f"{platform.lineitems_url}/{item_id}" + ("?type=grade" if platform.lineitem_url_query else "")


def _check_line_item(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    maximum = body.get("scoreMaximum")
    if isinstance(maximum, bool) or not isinstance(maximum, int | float) or maximum <= 0:
        return "scoreMaximum is required and must be positive"
    if not isinstance(body.get("label"), str) or not body["label"]:
        return "label is required"
    for member in ("resourceId", "tag", "resourceLinkId", "startDateTime", "endDateTime"):
        if member in body and not isinstance(body[member], str):
            return f"{member} must be a string"
    return None


@bp.route("/ags/<context_id>/lineitems", methods=["GET", "POST"])
def line_items(context_id: str) -> Response:
    platform = _platform()
    if context_id != platform.course.id:
        return _problem(404, "not_found", "no such context")
    if request.method == "POST":
        refused = _authorized(c.AGS_SCOPE_LINEITEM)() or _media(LINEITEM)
        if refused:
            return refused
        body = request.get_json(silent=True)
        problem = _check_line_item(body)
        if problem or not isinstance(body, dict):
            return _problem(400, "invalid_request", problem or "the body must be a JSON object")
        with platform.lock:
            item_id = str(platform.next_line_item)
            platform.next_line_item += 1
            item = {**body, "id": _line_item_url(platform, item_id)}
            platform.line_items[item_id] = item
        return _json(item, 201, LINEITEM)
    refused = _authorized(c.AGS_SCOPE_LINEITEM, c.AGS_SCOPE_LINEITEM_READONLY)()
    if refused:
        return refused
    filters = {k: request.args[k] for k in ("resource_link_id", "resource_id", "tag") if k in request.args}
    members = {"resource_link_id": "resourceLinkId", "resource_id": "resourceId", "tag": "tag"}
    with platform.lock:
        items = [i for i in platform.line_items.values() if all(i.get(members[k]) == v for k, v in filters.items())]
    chunk, headers = _page(items, platform.lineitems_url, filters)
    return _json(chunk, 200, LINEITEM_CONTAINER, headers)


@bp.route("/ags/<context_id>/lineitems/<item_id>", methods=["GET", "PUT", "DELETE"])
def line_item(context_id: str, item_id: str) -> Response:
    platform = _platform()
    with platform.lock:
        item = platform.line_items.get(item_id)
    if context_id != platform.course.id or item is None:
        return _problem(404, "not_found", "no such line item")
    if request.method == "GET":
        refused = _authorized(c.AGS_SCOPE_LINEITEM, c.AGS_SCOPE_LINEITEM_READONLY)()
        return refused or _json(item, 200, LINEITEM)
    refused = _authorized(c.AGS_SCOPE_LINEITEM)()
    if refused:
        return refused
    if request.method == "DELETE":
        with platform.lock:
            platform.line_items.pop(item_id, None)
            platform.scores.pop(item_id, None)
        return Response(status=204)
    refused = _media(LINEITEM)
    if refused:
        return refused
    body = request.get_json(silent=True)
    problem = _check_line_item(body)
    if problem or not isinstance(body, dict):
        return _problem(400, "invalid_request", problem or "the body must be a JSON object")
    updated = {**body, "id": item["id"]}
    with platform.lock:
        platform.line_items[item_id] = updated
    return _json(updated, 200, LINEITEM)


# -- scores and results ----------------------------------------------------------------------------------


def _timestamp(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _check_score(platform: SandboxPlatform, body: Any) -> tuple[int, str] | None:
    if not isinstance(body, dict):
        return 400, "the body must be a JSON object"
    if _timestamp(body.get("timestamp")) is None:
        return 400, "timestamp is required, ISO 8601 with a time zone"
    if body.get("activityProgress") not in ACTIVITY or body.get("gradingProgress") not in GRADING:
        return 400, "activityProgress and gradingProgress must take spec values"
    if "scoreGiven" in body:
        given, maximum = body["scoreGiven"], body.get("scoreMaximum")
        if isinstance(given, bool) or not isinstance(given, int | float) or given < 0:
            return 400, "scoreGiven must be a number of at least 0"
        if isinstance(maximum, bool) or not isinstance(maximum, int | float) or maximum <= 0:
            return 400, "scoreMaximum must be present and positive with scoreGiven"
    user = platform.users.get(str(body.get("userId")))
    if user is None or not user.learner:
        return 422, "userId is not a student in this course"
    return None


@bp.post("/ags/<context_id>/lineitems/<item_id>/scores")
def scores(context_id: str, item_id: str) -> Response:
    platform = _platform()
    if context_id != platform.course.id or item_id not in platform.line_items:
        return _problem(404, "not_found", "no such line item")
    refused = _authorized(c.AGS_SCOPE_SCORE)() or _media(SCORE)
    if refused:
        return refused
    body = request.get_json(silent=True)
    problem = _check_score(platform, body)
    if problem:
        return _problem(problem[0], "invalid_score", problem[1])
    assert isinstance(body, dict)
    with platform.lock:
        history = platform.scores.setdefault(item_id, [])
        previous = [s for s in history if s["userId"] == body["userId"]]
        stamp = _timestamp(body["timestamp"])
        if previous and stamp is not None and stamp < max(_timestamp(s["timestamp"]) or stamp for s in previous):
            return _problem(409, "conflict", "a newer score for this user is already recorded")
        history.append(dict(body))
    result_url = f"{platform.lineitems_url}/{item_id}/results?user_id={body['userId']}"
    return _json({"resultUrl": result_url}, 200)


@bp.get("/ags/<context_id>/lineitems/<item_id>/results")
def results(context_id: str, item_id: str) -> Response:
    platform = _platform()
    if context_id != platform.course.id or item_id not in platform.line_items:
        return _problem(404, "not_found", "no such line item")
    refused = _authorized(c.AGS_SCOPE_RESULT_READONLY)()
    if refused:
        return refused
    item_url = _line_item_url(platform, item_id)
    latest: dict[str, dict[str, Any]] = {}
    with platform.lock:
        for score in platform.scores.get(item_id, []):
            latest[score["userId"]] = score
    wanted = request.args.get("user_id")
    rows = [
        {"id": f"{platform.lineitems_url}/{item_id}/results/{user}", "scoreOf": item_url, "userId": user,
         "resultScore": s.get("scoreGiven"), "resultMaximum": s.get("scoreMaximum", 1), "comment": s.get("comment")}
        for user, s in latest.items() if "scoreGiven" in s and (wanted is None or wanted == user)
    ]
    query = {"user_id": wanted} if wanted else {}
    chunk, headers = _page(rows, f"{platform.lineitems_url}/{item_id}/results", query)
    return _json(chunk, 200, RESULT_CONTAINER, headers)


# -- names and roles --------------------------------------------------------------------------------------


@bp.get("/nrps/<context_id>/memberships")
def memberships(context_id: str) -> Response:
    """NRPS 2.0: ``role`` filter (short name or URI), ``limit``/``page`` paging with ``rel="next"``, and a
    ``rel="differences"`` link on the last page; ``since`` answers the people removed since (status ``Deleted``)."""
    platform = _platform()
    if context_id != platform.course.id:
        return _problem(404, "not_found", "no such context")
    refused = _authorized(c.NRPS_SCOPE)()
    if refused:
        return refused
    role = request.args.get("role")
    since = request.args.get("since")
    with platform.lock:
        people = [(u, "Active") for u in platform.users.values()] if since is None else [
            (u, "Deleted") for u in platform.removed_users]
    members = [
        {"user_id": u.sub, "status": status, "roles": list(u.roles), "name": u.name, "given_name": u.given_name,
         "family_name": u.family_name, "email": u.email}
        for u, status in people
        if role is None or any(r == role or r.rsplit("#", 1)[-1] == role for r in u.roles)
    ]
    query = {k: v for k, v in (("role", role), ("since", since)) if v}
    chunk, headers = _page(members, platform.memberships_url, query)
    if "Link" not in headers and platform.offer_differences:
        headers["Link"] = f'<{platform.memberships_url}?since={int(time.time())}>; rel="differences"'
    course = platform.course
    body = {"id": platform.memberships_url, "context": {"id": course.id, "label": course.label, "title": course.title},
            "members": chunk}
    return _json(body, 200, MEMBERSHIP_CONTAINER, headers)
