"""``GET /clever/login`` and ``GET /clever/callback`` (register the callback as the app's first redirect URI).

Thin: cookies in, :class:`~gateway.clever.login.CleverLogin` called, cookies and a redirect out. Every refusal
is a friendly page with its stable code and a way to log in again.
"""

from __future__ import annotations

import re
from html import escape

from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response

from gateway.api.problems import render_error
from gateway.api.responses import no_referrer, no_store
from gateway.clever.login import BINDING_COOKIE, BrowserCookies, CallbackResult
from gateway.clever.service import CleverServices
from gateway.errors import BadRequest, GatewayError
from gateway.web import core, services

bp = Blueprint("clever", __name__, url_prefix="/clever")
# Every answer here carries a state, a code or a cookie for one browser; the callback URL carries the code.
bp.after_request(no_store)
bp.after_request(no_referrer)

BOUNCE_COOKIE = "gw_clever_bounce"
LAUNCH_COOKIE = "gw_clever_launch"
_DISTRICT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_LAUNCH_ID = re.compile(r"^lch_[0-9a-f]{32}$")


def _secure() -> bool:
    return core().settings.public_base_url.startswith("https://")


def _cookie(response: Response, name: str, value: str, max_age: int) -> None:
    # Lax: the callback is a top-level GET navigation from clever.com, which Lax cookies accompany.
    response.set_cookie(name, value, max_age=max_age, path="/clever", secure=_secure(), httponly=True,
                        samesite="Lax")


@bp.get("/login")
def login() -> Response:
    district_id = request.args.get("district_id") or None
    if district_id is not None and not _DISTRICT_ID.match(district_id):
        raise BadRequest("`district_id` must be a Clever district id.")
    start = services(CleverServices).login.start(district_id=district_id)
    response = redirect(start.authorize_url, code=302)
    _cookie(response, BINDING_COOKIE, start.binding, services(CleverServices).config.login_state_ttl_seconds)
    return response


@bp.get("/callback")
def callback() -> Response:
    previous = request.cookies.get(LAUNCH_COOKIE)
    bounces = request.cookies.get(BOUNCE_COOKIE, "")
    cookies = BrowserCookies(
        binding=request.cookies.get(BINDING_COOKIE),
        bounces=int(bounces) if re.fullmatch(r"[0-9]{1,2}", bounces) else 0,
        previous_launch_id=previous if previous and _LAUNCH_ID.match(previous) else None,
    )
    params = {k: v for k, v in request.args.items() if k in ("code", "state", "error")}
    return _respond(services(CleverServices).login.callback(params, cookies))


@bp.errorhandler(GatewayError)
def _refused(error: GatewayError) -> Response:
    """A refused callback offers a fresh login; other refusals here render as everywhere else."""
    return render_error(error, _log_in_again() if request.endpoint == "clever.callback" else "")


def _respond(result: CallbackResult) -> Response:
    response = redirect(result.redirect_url, code=302)
    if result.kind == "bounce" and result.binding:
        _cookie(response, BINDING_COOKIE, result.binding, services(CleverServices).config.login_state_ttl_seconds)
        _cookie(response, BOUNCE_COOKIE, str(result.bounces), 120)
        return response
    response.delete_cookie(BINDING_COOKIE, path="/clever")
    response.delete_cookie(BOUNCE_COOKIE, path="/clever")
    if result.launch_id:
        # Remembered so the next Clever login on this browser retires this one's hand-off (shared devices).
        _cookie(response, LAUNCH_COOKIE, result.launch_id, 12 * 3600)
    return response


def _log_in_again() -> str:
    href = escape(url_for("clever.login"))
    return f'<p><a href="{href}" id="log-in-again">Log in with Clever again</a></p>'
