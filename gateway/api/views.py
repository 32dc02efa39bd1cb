"""Routes of ``/api/v1`` that belong to no single feature."""

from __future__ import annotations

from flask import Blueprint, Response

from gateway.api.auth import current_api_key, require_any_key
from gateway.web import json_response

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/whoami")
@require_any_key
def whoami() -> Response:
    """The calling key's id, name and scopes: a cheap way for a vendor to test its credentials."""
    key = current_api_key()
    return json_response({"id": key.id, "name": key.name, "scopes": sorted(key.scopes)})
