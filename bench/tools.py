"""The two baselines the gateway is measured beside, as WSGI apps for gunicorn (2 sync workers).

``pylti1p3_app``: a minimal LTI 1.3 tool written the way pylti1p3's README shows it: ``ToolConfDict``, the Flask
adapter (``FlaskRequest``, ``FlaskOIDCLogin``, ``FlaskMessageLaunch``), launch data in Flask-Caching on Redis
(``FlaskCacheDataStorage``), the platform's JWKS fetched on every launch ("as documented") or cached with
``set_public_key_caching`` (``BENCH_KEY_CACHE=1``). It answers the launch with a small page, as a tool would.

``floor_app``: the least any tool must do on the same stack: the login redirect (state cookie, nonce), one RS256
verify of the ``id_token`` with the platform key held in memory, and one trivial request standing for the
vendor's redeem. Nothing is stored.

Both read their configuration from ``BENCH_*`` variables (set by :mod:`bench.servers`):
``gunicorn -w 2 'bench.tools:pylti1p3_app()'``.
"""

from __future__ import annotations

import os
import secrets
from typing import Any
from urllib.parse import urlencode

import jwt
import requests
from flask import Flask, Response, jsonify, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from bench.platform import CLIENT_ID, DEPLOYMENT_ID


def _env(name: str) -> str:
    return os.environ[f"BENCH_{name}"]


def pylti1p3_app() -> Flask:
    from flask_caching import Cache
    from pylti1p3.contrib.flask.launch_data_storage.cache import FlaskCacheDataStorage
    from pylti1p3.contrib.flask.message_launch import FlaskMessageLaunch
    from pylti1p3.contrib.flask.oidc_login import FlaskOIDCLogin
    from pylti1p3.contrib.flask.request import FlaskRequest
    from pylti1p3.tool_config.dict import ToolConfDict

    issuer = _env("ISSUER")
    with open(_env("TOOL_KEY_FILE")) as f:
        private_key = f.read()
    with open(_env("TOOL_PUBLIC_KEY_FILE")) as f:
        public_key = f.read()
    tool_conf = ToolConfDict({issuer: [{
        "default": True,
        "client_id": CLIENT_ID,
        "auth_login_url": _env("AUTH_URL"),
        "auth_token_url": _env("TOKEN_URL"),
        "auth_audience": None,
        "key_set_url": _env("JWKS_URL"),
        "key_set": None,
        "deployment_ids": [DEPLOYMENT_ID],
    }]})
    tool_conf.set_private_key(issuer, private_key, client_id=CLIENT_ID)
    tool_conf.set_public_key(issuer, public_key, client_id=CLIENT_ID)
    key_cache = os.environ.get("BENCH_KEY_CACHE") == "1"

    app = Flask("bench-pylti1p3")
    app.config.update(SECRET_KEY=secrets.token_hex(16), CACHE_TYPE="RedisCache",
                      CACHE_REDIS_URL=_env("REDIS_URL"), CACHE_KEY_PREFIX=_env("CACHE_PREFIX"))
    cache = Cache(app)

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        flask_request = FlaskRequest()
        oidc_login = FlaskOIDCLogin(flask_request, tool_conf, launch_data_storage=FlaskCacheDataStorage(cache))
        return oidc_login.redirect(flask_request.get_param("target_link_uri"))

    @app.post("/launch")
    def launch() -> Any:
        message_launch = FlaskMessageLaunch(FlaskRequest(), tool_conf, launch_data_storage=FlaskCacheDataStorage(cache))
        if key_cache:
            message_launch.set_public_key_caching(FlaskCacheDataStorage(cache), cache_lifetime=7200)
        data = message_launch.get_launch_data()
        return Response(f"<p>Hello {data.get('given_name', '')}</p><p>{message_launch.get_launch_id()}</p>",
                        mimetype="text/html")

    return app


def floor_app() -> Flask:
    issuer, auth_url = _env("ISSUER"), _env("AUTH_URL")
    keys = {k["kid"]: jwt.PyJWK(k) for k in requests.get(_env("JWKS_URL"), timeout=5).json()["keys"]}
    app = Flask("bench-floor")

    @app.get("/login")
    def login() -> BaseResponse:
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        query = urlencode({"scope": "openid", "response_type": "id_token", "client_id": CLIENT_ID,
                           "redirect_uri": request.args["target_link_uri"], "login_hint": request.args["login_hint"],
                           "lti_message_hint": request.args.get("lti_message_hint", ""), "state": state,
                           "nonce": nonce, "response_mode": "form_post", "prompt": "none"})
        answer = redirect(f"{auth_url}?{query}")
        answer.set_cookie("floor-state", f"{state}.{nonce}", httponly=True)
        return answer

    @app.post("/launch")
    def launch() -> BaseResponse:
        state, _, nonce = request.cookies.get("floor-state", "").partition(".")
        token = request.form["id_token"]
        if not state or request.form.get("state") != state:
            return Response("state mismatch", status=400)
        claims = jwt.decode(token, keys[jwt.get_unverified_header(token)["kid"]].key, algorithms=["RS256"],
                            audience=CLIENT_ID, issuer=issuer)
        if claims.get("nonce") != nonce:
            return Response("nonce mismatch", status=400)
        return redirect(f"/redeem?code={secrets.token_urlsafe(16)}")

    @app.post("/redeem")
    def redeem() -> Response:
        return jsonify({"code": (request.get_json(silent=True) or {}).get("code")})

    return app
