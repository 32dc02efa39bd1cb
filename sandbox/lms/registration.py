"""The simulated platform's side of LTI Dynamic Registration (lti-dr v1p0): its OpenID configuration and
its registration endpoint.

The registration endpoint is strict where a tool can go wrong: it takes only a one-time registration token
the platform handed out (``SandboxPlatform.start_registration``), refuses a tool configuration that lacks a
member the spec requires (RFC 7591 ``invalid_client_metadata``), records every configuration it receives,
and answers with a new client id and, in the tool-configuration member, the deployment id. After that the
platform launches the tool it registered.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from gateway.lti import claims as c
from sandbox.lms.platform import Recorded, SandboxPlatform

bp = Blueprint("sandbox_lms_registration", __name__)

MESSAGE_TYPES = (c.RESOURCE_LINK_REQUEST, c.DEEP_LINKING_REQUEST)


def _platform() -> SandboxPlatform:
    platform: SandboxPlatform = current_app.extensions["sandbox_lms"]
    return platform


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("https://", "http://"))


def configuration_problems(config: Any) -> list[str]:
    """What a tool configuration lacks or gets wrong, per lti-dr v1p0 §3.1 and §3.2 (empty: acceptable)."""
    if not isinstance(config, dict):
        return ["the body must be a JSON object"]
    problems = []
    if config.get("application_type") != "web":
        problems.append("application_type must be web")
    if "id_token" not in (config.get("response_types") or []):
        problems.append("response_types must include id_token")
    if not {"implicit", "client_credentials"} <= set(config.get("grant_types") or []):
        problems.append("grant_types must include implicit and client_credentials")
    for member in ("initiate_login_uri", "jwks_uri"):
        if not _is_url(config.get(member)):
            problems.append(f"{member} must be a URL")
    uris = config.get("redirect_uris")
    if not isinstance(uris, list) or not uris or not all(_is_url(u) for u in uris):
        problems.append("redirect_uris must be a non-empty list of URLs")
    if not isinstance(config.get("client_name"), str) or not config["client_name"]:
        problems.append("client_name is required")
    if config.get("token_endpoint_auth_method") != "private_key_jwt":
        problems.append("token_endpoint_auth_method must be private_key_jwt")
    lti = config.get(c.TOOL_CONFIGURATION)
    if not isinstance(lti, dict):
        return [*problems, f"{c.TOOL_CONFIGURATION} is required"]
    if not isinstance(lti.get("domain"), str) or not lti["domain"]:
        problems.append("the tool configuration's domain is required")
    if not _is_url(lti.get("target_link_uri")):
        problems.append("the tool configuration's target_link_uri must be a URL")
    messages = lti.get("messages", [])
    if not isinstance(messages, list) or not all(isinstance(m, dict) and isinstance(m.get("type"), str)
                                                 for m in messages):
        problems.append("messages must be objects with a type")
    return problems


@bp.get("/.well-known/openid-configuration")
def openid_configuration() -> Response:
    platform = _platform()
    platform.record(Recorded("openid_configuration", "GET", request.path, request.args.to_dict(),
                             {"Authorization": request.headers.get("Authorization", "").split(" ", 1)[0]}, None, 200))
    document: dict[str, Any] = {
        "issuer": platform.openid_issuer_override or platform.issuer,
        "authorization_endpoint": platform.auth_url,
        "token_endpoint": platform.token_url,
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "jwks_uri": platform.jwks_url,
        "registration_endpoint": platform.registration_endpoint,
        "scopes_supported": ["openid", *c.AGS_SCOPES, c.NRPS_SCOPE],
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["iss", "sub", "aud", "name", "given_name", "family_name", "email"],
        c.PLATFORM_CONFIGURATION: {
            "product_family_code": "sandbox",
            "version": "1.0",
            "messages_supported": [{"type": t} for t in MESSAGE_TYPES],
        },
    }
    if platform.token_audience_override:
        document["authorization_server"] = platform.token_audience_override
    return jsonify(document)


@bp.post("/register")
def register() -> Response:
    platform = _platform()
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    config = request.get_json(silent=True)

    def answer(body: dict[str, Any], status: int) -> Response:
        platform.record(Recorded("registration", "POST", request.path, {}, {"Authorization": scheme}, config, status))
        response = jsonify(body)
        response.status_code = status
        return response

    with platform.lock:
        known = scheme.lower() == "bearer" and token in platform.registration_tokens
        platform.registration_tokens.discard(token)  # one use, whatever happens next
    if not known:
        return answer({"error": "invalid_token", "error_description": "unknown or used registration token"}, 401)
    problems = configuration_problems(config)
    if problems:
        return answer({"error": "invalid_client_metadata", "error_description": "; ".join(problems)}, 400)
    assert isinstance(config, dict)
    return answer(platform.accept_registration(config), 200)
