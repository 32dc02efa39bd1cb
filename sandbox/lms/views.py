"""The simulated platform's launch side: course pages, OIDC auth endpoint, JWKS, deep-link return."""

from __future__ import annotations

import time
from typing import Any

import jwt
import requests
from flask import Blueprint, Response, current_app, jsonify, request, url_for

from gateway.lti import claims as c
from sandbox.lms import gradebook, pages
from sandbox.lms.cases import Case, forge
from sandbox.lms.messages import build_claims
from sandbox.lms.platform import STUDENT, TEACHER, LaunchIntent, Recorded, SandboxPlatform

bp = Blueprint("sandbox_lms", __name__)

MESSAGE_TYPES = {
    "resource": c.RESOURCE_LINK_REQUEST,
    "deep_linking": c.DEEP_LINKING_REQUEST,
    "submission_review": c.SUBMISSION_REVIEW_REQUEST,
    "data_privacy": c.DATA_PRIVACY_REQUEST,
}
STORAGE_TARGET = "post_message_forwarding"  # the frame name Canvas uses


def _platform() -> SandboxPlatform:
    platform: SandboxPlatform = current_app.extensions["sandbox_lms"]
    return platform


def _html(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/html")


def _intent_from_query(storage: bool) -> LaunchIntent:
    user = STUDENT if request.args.get("user") == "student" else TEACHER
    message_type = MESSAGE_TYPES.get(request.args.get("message", "resource"), c.RESOURCE_LINK_REQUEST)
    case = Case(request.args.get("case", "valid")) if request.args.get("case") in set(Case) else Case.VALID
    intent = LaunchIntent(user=user, message_type=message_type, case=case,
                          storage_target=STORAGE_TARGET if storage else None)
    item = _deep_linked_item(request.args.get("item", ""))
    if item is not None and message_type == c.RESOURCE_LINK_REQUEST:
        # An activity a teacher added through Deep Linking: its own placement, with the custom values it carried.
        intent.resource_link_id = f"dl-item-{request.args['item']}"
        custom = item.get("custom")
        if isinstance(custom, dict):
            intent.custom = {str(k): str(v) for k, v in custom.items()}
    return intent


def _deep_linked_item(number: str) -> dict[str, Any] | None:
    """The course page's n-th deep-linked item (1-based), if it is an activity (an ``ltiResourceLink``)."""
    with _platform().lock:
        items = [item for answer in _platform().deep_link_returns for item in answer["items"]]
    if not number.isdigit() or not 1 <= int(number) <= len(items):
        return None
    item: dict[str, Any] = items[int(number) - 1]
    return item if item.get("type") == "ltiResourceLink" else None


@bp.get("/")
def home() -> Response:
    return _html(pages.home(_platform(), url_for("sandbox_lms.course"), url_for("sandbox_lms.start"),
                            url_for("sandbox_lms.gradebook_page")))


@bp.get("/gradebook")
def gradebook_page() -> Response:
    """Line items, the scores posted into them, and the gateway's calls: what ``/recorded`` holds, readable."""
    return _html(gradebook.gradebook(_platform(), url_for("sandbox_lms.home"), url_for("sandbox_lms.recorded")))


@bp.get("/course")
def course() -> Response:
    """The LMS page framing the tool, as a teacher or a student sees it."""
    storage = request.args.get("storage") == "1"
    login_url = _platform().prepare(_intent_from_query(storage))
    storage_url = url_for("sandbox_lms.storage_frame") if storage else None
    return _html(pages.course_frame(_platform(), login_url, storage_url, STORAGE_TARGET))


@bp.get("/start")
def start() -> Response:
    """A top-level launch (the LMS's "open in a new window")."""
    return Response(status=302, headers={"Location": _platform().prepare(_intent_from_query(False))})


@bp.get("/storage-frame")
def storage_frame() -> Response:
    return _html(pages.STORAGE_FRAME)


@bp.get("/jwks")
def jwks() -> Response:
    platform = _platform()
    failure = platform.take_failure(request.path)
    platform.record(Recorded("jwks", "GET", request.path, {}, {}, None, failure.status if failure else 200))
    if failure is not None:
        return Response(status=failure.status, headers=failure.headers)
    response = jsonify(platform.jwks())
    response.headers["Cache-Control"] = "max-age=3600"
    return response


@bp.route("/auth", methods=["GET", "POST"])
def auth() -> Response:
    """The OIDC authentication endpoint (Security Framework §5.1.1.2): checks the request, posts the id_token back."""
    platform, params = _platform(), request.values.to_dict()
    platform.record(Recorded("auth", request.method, request.path, params, {}, None, 200))
    redirect_uri, state = params.get("redirect_uri", ""), params.get("state", "")
    if redirect_uri not in platform.tool_redirect_uris:
        return _html(pages.page(platform, "Launch refused", "<h1>invalid_request_uri</h1>"), 400)

    def refuse(error: str, description: str) -> Response:
        return _html(pages.auto_post(redirect_uri, {"error": error, "error_description": description, "state": state}))

    if params.get("client_id") != platform.client_id:
        return refuse("unauthorized_client", "unknown client_id")
    if params.get("response_type") != "id_token":
        return refuse("unsupported_response_type", "response_type must be id_token")
    if params.get("scope") != "openid":
        return refuse("invalid_scope", "scope must be openid")
    if params.get("response_mode") != "form_post" or params.get("prompt") != "none" or not state:
        return refuse("invalid_request", "response_mode form_post, prompt none and state are required")
    nonce = params.get("nonce")
    intent = platform.intents.get(params.get("lti_message_hint", ""))
    if not nonce or intent is None:
        return refuse("invalid_request", "nonce and a known lti_message_hint are required")
    if params.get("login_hint") != intent.user.sub:
        return refuse("login_required", "login_hint does not match the signed-in user")
    if intent.case is Case.LOGIN_REQUIRED:
        return refuse("login_required", "Must have an active user session")
    claims = build_claims(platform, intent, nonce)
    fields = {"id_token": forge(intent.case, claims, platform.key), "state": state}
    if intent.storage_target:
        fields["lti_storage_target"] = intent.storage_target
    return _html(pages.auto_post(redirect_uri, fields))


@bp.post("/deep-link-return")
def deep_link_return() -> Response:
    """Where the tool posts its LtiDeepLinkingResponse (DL 2.0 §4.5), checked as a strict platform would."""
    platform = _platform()
    try:
        claims = _verify_deep_link_response(platform, request.form.get("JWT", ""))
    except ValueError as e:
        platform.record(Recorded("deep_link_return", "POST", request.path, {}, {}, {"error": str(e)}, 400))
        return _html(pages.page(platform, "Deep link refused", f"<h1>Refused</h1><p id='reason'>{e}</p>"), 400)
    items = claims.get(c.DL_CONTENT_ITEMS, [])
    with platform.lock:
        platform.deep_link_returns.append({"items": items, "data": claims.get(c.DL_DATA), "claims": claims})
    platform.record(Recorded("deep_link_return", "POST", request.path, {}, {}, {"items": items}, 200))
    return _html(pages.deep_link_received(platform, items))


def _verify_deep_link_response(platform: SandboxPlatform, token: str) -> dict[str, Any]:
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        keys = platform.tool_keys()
    except (jwt.PyJWTError, requests.RequestException, ValueError) as e:
        raise ValueError(f"unreadable response or tool JWKS ({type(e).__name__})") from e
    if kid not in keys:
        raise ValueError("the response's kid is not in the tool's JWKS")
    try:
        claims: dict[str, Any] = jwt.decode(
            token, keys[kid].key, algorithms=["RS256"], audience=platform.issuer, issuer=platform.client_id,
            options={"require": ["iss", "aud", "exp", "iat", "nonce"]}, leeway=5,
        )
    except jwt.PyJWTError as e:
        raise ValueError(f"invalid response JWT ({type(e).__name__})") from e
    if claims.get(c.MESSAGE_TYPE) != c.DEEP_LINKING_RESPONSE or claims.get(c.VERSION) != c.LTI_VERSION:
        raise ValueError("not an LTI 1.3 LtiDeepLinkingResponse")
    if claims.get(c.DEPLOYMENT_ID) != platform.deployment_id:
        raise ValueError("unknown deployment_id")
    if claims["iat"] > time.time() + 60:
        raise ValueError("issued in the future")
    with platform.lock:
        if claims["nonce"] in platform.used_dl_nonces:
            raise ValueError("nonce replayed")
        platform.used_dl_nonces.add(claims["nonce"])
    items = claims.get(c.DL_CONTENT_ITEMS, [])
    if not isinstance(items, list) or any(not isinstance(i, dict) or i.get("type") not in c.CONTENT_ITEM_TYPES
                                           for i in items):
        raise ValueError("content_items must be typed items")
    return claims


@bp.get("/recorded")
def recorded() -> Response:
    """What the platform received, for people poking at the dev sandbox."""
    platform = _platform()
    with platform.lock:
        rows = [r.__dict__ for r in platform.recorded[-200:]]
    return jsonify(rows)
