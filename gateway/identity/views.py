"""``/identity/link/<token>``: the page an unmatched person meets, and its two ways on. Thin: the flow is in
:mod:`gateway.identity.clever_link`."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, url_for
from werkzeug.wrappers import Response as BaseResponse

from gateway.api.responses import no_referrer, no_store
from gateway.clever import BINDING_COOKIE, CleverServices
from gateway.identity.pages import link_page
from gateway.identity.service import IdentityServices
from gateway.web import core, services

bp = Blueprint("identity", __name__, url_prefix="/identity")
bp.after_request(no_store)
bp.after_request(no_referrer)  # the URL carries the one-time token


@bp.get("/link/<token>")
def page(token: str) -> BaseResponse:
    services(IdentityServices).link_flow.view(token)
    html = link_page(clever_url=url_for("identity.clever", token=token), skip_url=url_for("identity.skip", token=token))
    return Response(html, mimetype="text/html")


@bp.get("/link/<token>/clever")
def clever(token: str) -> BaseResponse:
    started = services(IdentityServices).start_link(token)
    response = redirect(started.authorize_url, code=302)
    # The same browser binding "Log in with Clever" sets (gateway.clever.views): the callback checks it.
    ttl = services(CleverServices).config.login_state_ttl_seconds
    response.set_cookie(BINDING_COOKIE, started.binding, max_age=ttl,
                        path="/clever", secure=core().settings.public_base_url.startswith("https://"), httponly=True,
                        samesite="Lax")
    return response


@bp.get("/link/<token>/skip")
def skip(token: str) -> BaseResponse:
    return redirect(services(IdentityServices).link_flow.skip(token), code=303)
