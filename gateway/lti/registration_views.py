"""``/lti/register`` (Dynamic Registration), ``/lti/canvas.json``, ``/lti/tool-configuration.json``, ``/lti/logo.svg``.

Public, unauthenticated pages an LMS administrator (or the LMS itself) opens to connect the tool.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from gateway.api.responses import no_store
from gateway.lti.dynamic_registration import registered_page
from gateway.lti.service import LtiServices
from gateway.lti.tool_config import LOGO_SVG, canvas_configuration, tool_configuration
from gateway.web import json_response, services

bp = Blueprint("lti_registration", __name__, url_prefix="/lti")

# LMSs fetch these when an administrator pastes the URL; a short cache keeps settings changes visible.
_CONFIG_CACHE = "public, max-age=300"


@bp.get("/register")
def register() -> Response:
    lti = services(LtiServices)
    result = lti.registration.register(request.args.get("openid_configuration"), request.args.get("registration_token"))
    return no_store(Response(registered_page(result, lti.tool.name), mimetype="text/html"))


@bp.get("/canvas.json")
def canvas_json() -> Response:
    return json_response(canvas_configuration(services(LtiServices).tool), headers={"Cache-Control": _CONFIG_CACHE})


@bp.get("/tool-configuration.json")
def tool_configuration_json() -> Response:
    return json_response(tool_configuration(services(LtiServices).tool), headers={"Cache-Control": _CONFIG_CACHE})


@bp.get("/logo.svg")
def logo() -> Response:
    return Response(LOGO_SVG, mimetype="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})
