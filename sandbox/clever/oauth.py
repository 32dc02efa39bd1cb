"""Simulated Clever OAuth and identity: authorize, Clever-initiated logins, tokens, ``/me``, ``/userinfo``.

Who is signed in to Clever is a cookie set by ``/sim/signin`` (the test's stand-in for typing a password); with
``next`` (a path of the simulator) it then redirects there, which is how the dev sandbox's links sign a person in and
go on. ``/oauth/authorize`` without a signed-in person answers 401 with a page to pick one (Clever's sign-in page).
Portal clicks, Instant Login and Library installs redirect to the app's *first* redirect URI with a code
and no ``state`` (as Clever's OAuth docs describe); ``/oauth/authorize`` echoes the app's ``state`` when it sent one.
"""

from __future__ import annotations

import secrets
from html import escape
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, g, jsonify, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from sandbox.clever import records
from sandbox.clever.common import Caller, caller, error, html, sim, unauthorized
from sandbox.clever.state import CodeGrant, SsoToken

bp = Blueprint("clever_sim_oauth", __name__)

SESSION_COOKIE = "clever_sim_session"
AUTHORIZED_BY = ("district", "teacher")


def _signed_in() -> tuple[str, str] | None:
    raw = request.cookies.get(SESSION_COOKIE, "")
    user_id, _, authorized_by = raw.partition("|")
    state = sim()
    if user_id in state.records["users"] and authorized_by in AUTHORIZED_BY:
        return user_id, authorized_by
    return None


def _issue_code(user_id: str, authorized_by: str, redirect_uri: str, state_param: str | None) -> BaseResponse:
    state = sim()
    code = secrets.token_urlsafe(18)
    with state.lock:
        state.codes[code] = CodeGrant(state.client_id, redirect_uri, user_id, authorized_by,
                                      state.clock() + state.code_ttl)
    query = {"code": code, **({"state": state_param} if state_param else {})}
    return redirect(f"{redirect_uri}?{urlencode(query)}", code=302)


@bp.get("/sim/signin")
def signin() -> Response | BaseResponse:
    """Sign a person in to the simulated Clever (``authorized_by``: district, or teacher for Library)."""
    user_id = request.args.get("user_id", "")
    authorized_by = request.args.get("authorized_by", "district")
    if user_id not in sim().records["users"] or authorized_by not in AUTHORIZED_BY:
        return error(400, "unknown user or authorized_by")
    after = request.args.get("next", "")
    response: Response | BaseResponse
    if after.startswith("/") and not after.startswith("//") and "\\" not in after:
        response = redirect(request.script_root + after, code=302)  # a path of the simulator only
    else:
        response = jsonify({"signed_in": user_id})
    response.set_cookie(SESSION_COOKIE, f"{user_id}|{authorized_by}", httponly=True, samesite="Lax")
    return response


@bp.get("/sim/portal")
def portal() -> BaseResponse:
    """A click on the app's icon in the Clever Portal (or a Library install: ``authorized_by=teacher``)."""
    who = _signed_in()
    state = sim()
    if who is None or not state.redirect_uris:
        return html(401, "Sign in to Clever first")
    return _issue_code(who[0], who[1], state.redirect_uris[0], None)


@bp.get("/oauth/instant-login")
def instant_login() -> BaseResponse:
    state = sim()
    who = _signed_in()
    if request.args.get("client_id") != state.client_id or not state.redirect_uris:
        return html(400, "Unknown client")
    if who is None or who[1] != "district":
        return html(401, "Instant Login links do not work for Clever Library")
    return _issue_code(who[0], who[1], state.redirect_uris[0], None)


@bp.get("/oauth/authorize")
def authorize() -> BaseResponse:
    state = sim()
    args = request.args
    if args.get("client_id") != state.client_id or args.get("response_type") != "code":
        return html(400, "Unknown client or response type")
    redirect_uri = args.get("redirect_uri") or (state.redirect_uris[0] if state.redirect_uris else "")
    if redirect_uri not in state.redirect_uris:
        return html(400, "Unknown redirect URI")
    who = _signed_in()
    if who is None:
        return _sign_in_page(args.get("district_id"))
    return _issue_code(who[0], who[1], redirect_uri, args.get("state"))


def _sign_in_page(district_id: str | None) -> Response:
    """Clever's sign-in page: "Sign in to Clever first" and, per person of the district, a link that signs them in
    and comes back to this authorize request."""
    state = sim()
    back = request.full_path if request.query_string else request.path
    with state.lock:
        people = [u for u in state.records["users"].values() if not district_id or u["district"] == district_id]
    links = "".join(
        f'<li><a class="person" href="{escape(_signin_url(u["id"], back), quote=True)}">'
        f'{escape(u["name"]["first"])} {escape(u["name"]["last"])} ({escape(", ".join(u["roles"]))})</a></li>'
        for u in people)
    g.sim_off_spec = "html"
    return Response(f"<!doctype html><html><body style=\"font-family:system-ui,sans-serif;margin:1.5rem\">"
                    f"<h1>Sign in to Clever first</h1><p>The simulated Clever's sign-in page: on Clever the person "
                    f"signs in with their district account here. Who is signing in?</p>"
                    f"<ul>{links}</ul></body></html>", status=401, mimetype="text/html")


def _signin_url(user_id: str, back: str) -> str:
    return request.script_root + "/sim/signin?" + urlencode(
        {"user_id": user_id, "authorized_by": "district", "next": back})


def _token_request() -> dict[str, Any]:
    if request.is_json:
        body = request.get_json(silent=True)
        return body if isinstance(body, dict) else {}
    return request.form.to_dict()


@bp.post("/oauth/tokens")
def tokens() -> Response:
    state = sim()
    if caller().kind != "basic":
        response = jsonify({"error": "invalid_client", "error_description": "Invalid client credentials"})
        response.status_code = 401
        return response
    body = _token_request()
    invalid = jsonify({"error": "invalid_grant", "error_description": "Invalid grant: invalid code"})
    invalid.status_code = 400
    if body.get("grant_type") != "authorization_code":
        return invalid
    with state.lock:
        grant = state.codes.get(str(body.get("code", "")))
        if grant is None or grant.used or grant.expires_at < state.clock():
            return invalid
        if body.get("redirect_uri") != grant.redirect_uri:
            return invalid
        grant.used = True
        token = "il" + secrets.token_hex(16)
        district_id = state.district_of_user(grant.user_id)
        state.sso_tokens[token] = SsoToken(grant.user_id, grant.authorized_by, district_id)
    return jsonify({"access_token": token, "token_type": "bearer"})


@bp.get("/oauth/tokens")
def list_tokens() -> Response:
    state = sim()
    if caller().kind != "basic":
        return unauthorized()
    if request.args.get("owner_type", "district") != "district":
        return error(400, "owner_type currently only supports 'district'")
    wanted = request.args.get("district")
    with state.lock:
        data = [
            {"id": t.id, "created": t.created, "owner": {"type": "district", "id": t.district_id},
             "access_token": token, "scopes": ["read:sis", "read:user_id", "read:district_admins"]}
            for token, t in state.district_tokens.items()
            if wanted is None or t.district_id == wanted
        ]
    return jsonify({"data": data, "links": [{"rel": "self", "uri": request.full_path.rstrip("?")}]})


def _me_body(who: Caller) -> dict[str, Any]:
    if who.kind == "district":
        return {"type": "district", "data": {"id": who.district_id, "type": "district"},
                "links": [{"rel": "self", "uri": "/me"}]}
    assert who.sso is not None
    data: dict[str, Any] = {"id": who.sso.user_id, "type": "user", "authorized_by": who.sso.authorized_by}
    links = [{"rel": "self", "uri": "/me"}, {"rel": "canonical", "uri": f"/v3.0/users/{who.sso.user_id}"}]
    if who.sso.authorized_by == "district":
        data["district"] = who.sso.district_id
        links.append({"rel": "district", "uri": f"/v3.0/districts/{who.sso.district_id}"})
    return {"type": "user", "data": data, "links": links}


@bp.get("/me")
@bp.get("/v3.0/me")
@bp.get("/v3.1/me")
def me() -> Response:
    who = caller()
    if who.kind not in ("sso", "district"):
        return unauthorized()
    return jsonify(_me_body(who))


@bp.get("/userinfo")
def userinfo() -> Response:
    who = caller()
    if who.kind != "sso" or who.sso is None:
        return unauthorized()
    record = sim().records["users"][who.sso.user_id]
    view = records.library_view(record) if who.sso.authorized_by == "teacher" else record
    roles = list(view.get("roles", {}))
    name = view.get("name", {})
    body: dict[str, Any] = {
        "sub": record["id"], "multi_role_user_id": record["id"], "user_id": record["id"][::-1],
        "user_type": roles[0] if roles else "user", "name": name,
        "given_name": name.get("first"), "family_name": name.get("last"), "email_verified": False,
        "authorized_by": who.sso.authorized_by, "schools": [],
    }
    if who.sso.authorized_by == "district":
        body["district"] = body["district_id"] = record["district"]
    if view.get("email"):
        body["email"] = view["email"]
    return jsonify(body)
