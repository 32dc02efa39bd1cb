"""The public JWKS that platforms fetch to verify the gateway's signatures."""

from __future__ import annotations

from flask import Blueprint, Response

from gateway.keys.service import KeysServices
from gateway.web import json_response, services

bp = Blueprint("keys", __name__)


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    # Platforms cache this; a short max-age keeps rotation (next key published early) effective.
    return json_response(services(KeysServices).keyring.jwks(), headers={"Cache-Control": "public, max-age=300"})
