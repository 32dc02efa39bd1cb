"""The third-party ``lti1p3platform`` (PyPI 0.1.8, pinned) as a second real LTI platform, behind a small Flask adapter.

lti1p3platform ships Django and FastAPI adapters only (its ``framework`` package); this is the Flask one its README
implies: a ``Request`` subclass, a config with one registration, an OIDC login and a message launch whose
``prepare_launch`` sets the claims through the library's own setters. Invalid cases are the library's
valid launch run through :func:`sandbox.lms.cases.forge` with the library's own key, since the
library can only build well-formed messages.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, jsonify, request
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request, TRequest

from gateway.lti import claims as c
from sandbox.lms.cases import Case, forge
from sandbox.lms.keys import PlatformKey
from sandbox.lms.pages import auto_post
from tests.support.live import LiveServer

CLIENT_ID = "lti1p3platform-client"
DEPLOYMENT_ID = "lti1p3platform-deployment-1"
TEACHER_ROLES = [c.MEMBERSHIP_ROLE + "Instructor", c.INSTITUTION_ROLE + "Faculty"]
STUDENT_ROLES = [c.MEMBERSHIP_ROLE + "Learner", c.INSTITUTION_ROLE + "Student"]


@dataclass
class Intent:
    """What one launch from lti1p3platform should carry, set through the library's setters."""

    user_id: str = "tp-teacher"
    roles: list[str] = field(default_factory=lambda: list(TEACHER_ROLES))
    name: str | None = "Toni Teacher"
    email: str | None = "toni@example.edu"
    deep_linking: bool = False
    context: bool = True
    ags: bool = True
    nrps: bool = True
    presentation: bool = True
    custom: dict[str, str] = field(default_factory=lambda: {"unit": "ratios"})
    case: Case = Case.VALID
    send_deployment_hint: bool = True


class FlaskRequest(Request):
    def build_metadata(self, req: Any) -> TRequest:
        return {
            "method": req.method,
            "form_data": req.form.to_dict(),
            "get_data": req.args.to_dict(),
            "headers": req.headers,
            "content_type": req.content_type,
            "path": req.path,
            "json": req.get_json(silent=True),
        }


class PlatformConf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: Any) -> None:
        self._registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        registration: Registration = self._registration
        return registration


class Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url


class Launch(LTIAdvantageMessageLaunchAbstract):
    def __init__(self, req: Request, conf: PlatformConf, platform: ThirdPartyPlatform, intent: Intent) -> None:
        super().__init__(req, conf)
        self._platform = platform
        self._intent = intent

    def prepare_launch(self, preflight_response: dict[str, Any]) -> None:
        intent, platform = self._intent, self._platform
        self.set_user_data(intent.user_id, intent.roles, full_name=intent.name, email_address=intent.email)
        if intent.context:
            self.set_launch_context_claim("tp-course-1", context_title="Ratios and Rates", context_label="MATH-6")
        if not intent.deep_linking:
            self.set_resource_link_claim("tp-link-1", title="Ratio tables")
        if intent.presentation:
            self.set_launch_presentation_claim(document_target="iframe", return_url=platform.url + "/")
        self.set_custom_parameters_claim(dict(intent.custom))
        if intent.ags:
            self.set_ags(platform.url + "/lineitems", None, True, True, True)
        if intent.nrps:
            self.set_nrps(platform.url + "/memberships")
        if intent.deep_linking:
            self.set_dl(platform.url + "/deep-link-return", title="Pick content",
                        accept_types={"ltiResourceLink", "link", "html"}, extra_data={"opaque": "tp-data"})

    def generate_launch_request(self) -> Any:
        data = super().generate_launch_request()
        if self._intent.case is not Case.VALID:
            claims = jwt.decode(data["id_token"], options={"verify_signature": False})
            data["id_token"] = forge(self._intent.case, claims, self._platform.key)
        return data

    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> Response:
        fields = {"id_token": launch_data["id_token"], "state": launch_data["state"]}
        return Response(auto_post(launch_data["launch_url"], fields), mimetype="text/html")


class ThirdPartyPlatform:
    """lti1p3platform served over loopback: login initiation, auth endpoint, JWKS, token, deep-link return."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.url = server.url
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._private_pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        self._public_pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        self.intents: dict[str, Intent] = {}
        self.deep_link_items: list[list[dict[str, Any]]] = []
        self.jwks_requests = 0
        self.key: PlatformKey

    @property
    def issuer(self) -> str:
        return self.url

    def registration(self, *, login_url: str, launch_url: str, tool_jwks_url: str) -> Registration:
        registration = (
            Registration()
            .set_iss(self.issuer)
            .set_client_id(CLIENT_ID)
            .set_deployment_id(DEPLOYMENT_ID)
            .set_launch_url(launch_url)
            .set_deeplink_launch_url(launch_url)
            .set_oidc_login_url(login_url)
            .set_tool_key_set_url(tool_jwks_url)
            .set_platform_public_key(self._public_pem)
            .set_platform_private_key(self._private_pem)
        )
        self.key = PlatformKey.from_pem(self._private_pem, kid=registration.get_kid())
        return registration

    def connect(self, *, login_url: str, launch_url: str, tool_jwks_url: str) -> None:
        self._registration = self.registration(login_url=login_url, launch_url=launch_url, tool_jwks_url=tool_jwks_url)

    def conf(self) -> PlatformConf:
        # A config per request, as the library's Django example does; the registration is shared.
        return PlatformConf(registration=self._registration)

    def login_url(self, intent: Intent | None = None) -> str:
        """The tool login URL lti1p3platform builds for a launch (its ``prepare_preflight_url``)."""
        hint = secrets.token_urlsafe(12)
        self.intents[hint] = intent or Intent()
        conf = self.conf()
        conf.get_registration()
        login = Login(None, conf)
        login.set_lti_message_hint(hint=hint)
        url: str = login.prepare_preflight_url(self.intents[hint].user_id)
        if not self.intents[hint].send_deployment_hint:
            base, _, query = url.partition("?")
            kept = [(k, v) for k, v in parse_qsl(query) if k != "lti_deployment_id"]
            url = base + "?" + urlencode(kept)
        return url

    def gateway_registration(self) -> dict[str, str]:
        return {"issuer": self.issuer, "client_id": CLIENT_ID, "auth_login_url": self.url + "/authorize",
                "auth_token_url": self.url + "/token", "jwks_url": self.url + "/jwks", "lms": "other",
                "name": "lti1p3platform"}


def create_app(platform: ThirdPartyPlatform) -> Flask:
    app = Flask("lti1p3platform-adapter")

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize() -> Any:
        req = FlaskRequest(request)
        params = req.get_data or req.form_data
        intent = platform.intents.get(params.get("lti_message_hint", ""))
        if intent is None:
            return Response("unknown lti_message_hint", status=400)
        if intent.case is Case.LOGIN_REQUIRED:
            fields = {"error": "login_required", "error_description": "Must have an active user session",
                      "state": params.get("state", "")}
            return Response(auto_post(params["redirect_uri"], fields), mimetype="text/html")
        conf = platform.conf()
        conf.get_registration()
        return Launch(req, conf, platform, intent).lti_launch()

    @app.get("/jwks")
    def jwks() -> Any:
        platform.jwks_requests += 1
        conf = platform.conf()
        conf.get_registration()
        return jsonify(conf.get_jwks())

    @app.post("/token")
    def token() -> Any:
        conf = platform.conf()
        conf.get_registration()
        return jsonify(conf.get_access_token(request.form.to_dict()))

    @app.post("/deep-link-return")
    def deep_link_return() -> Any:
        conf = platform.conf()
        conf.get_registration()
        items = conf.validate_deeplinking_resp({"JWT": request.form["JWT"]})
        platform.deep_link_items.append(items)
        return Response(f"received {len(items)} items", mimetype="text/plain")

    return app


@contextmanager
def serve_thirdparty() -> Iterator[ThirdPartyPlatform]:
    server = LiveServer(lambda environ, start_response: None)
    platform = ThirdPartyPlatform(server)
    server.set_app(create_app(platform))
    server.start()
    try:
        yield platform
    finally:
        server.stop()
