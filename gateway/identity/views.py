"""``/identity/link/<token>``: the page an unmatched person meets, and its two ways on. Thin: the flow is in
:mod:`gateway.identity.clever_link`."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, url_for
from werkzeug.wrappers import Response as BaseResponse

from gateway.clever import BINDING_COOKIE, CleverServices
from gateway.errors import GatewayError
from gateway.identity.pages import link_page
from gateway.identity.service import IdentityServices
from gateway.web import core, services

bp = Blueprint("identity", __name__, url_prefix="/identity")


def _no_store(response: BaseResponse) -> BaseResponse:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the URL carries the one-time token
    return response


def _refused(error: GatewayError) -> BaseResponse:
    from gateway.app import render_error

    return _no_store(render_error(error))


@bp.get("/link/<token>")
def page(token: str) -> BaseResponse:
    try:
        services(IdentityServices).link_flow.view(token)
    except GatewayError as e:
        return _refused(e)
    html = link_page(clever_url=url_for("identity.clever", token=token), skip_url=url_for("identity.skip", token=token))
    return _no_store(Response(html, mimetype="text/html"))


@bp.get("/link/<token>/clever")
def clever(token: str) -> BaseResponse:
    try:
        started = services(IdentityServices).start_link(token)
    except GatewayError as e:
        return _refused(e)
    response = redirect(started.authorize_url, code=302)
    # The same browser binding "Log in with Clever" sets (gateway.clever.views): the callback checks it.
    ttl = services(CleverServices).config.login_state_ttl_seconds
    response.set_cookie(BINDING_COOKIE, started.binding, max_age=ttl,
                        path="/clever", secure=core().settings.public_base_url.startswith("https://"), httponly=True,
                        samesite="Lax")
    return _no_store(response)


@bp.get("/link/<token>/skip")
def skip(token: str) -> BaseResponse:
    try:
        url = services(IdentityServices).link_flow.skip(token)
    except GatewayError as e:
        return _refused(e)
    return _no_store(redirect(url, code=303))
