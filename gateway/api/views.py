"""Routes of ``/api/v1`` that belong to no single feature."""

from __future__ import annotations

from flask import Blueprint, Response

import gateway.api.reference as reference
from gateway.api.auth import current_api_key, require_any_key
from gateway.web import json_response

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# The API reference, outside /api/v1: public documents, no key (production serves them too: the contract is no
# secret, and a vendor's engineer reads it against the deployment they integrate with).
reference_bp = Blueprint("api_reference", __name__)


@bp.get("/whoami")
@require_any_key
def whoami() -> Response:
    """The calling key's id, name and scopes: a cheap way for a vendor to test its credentials."""
    key = current_api_key()
    return json_response({"id": key.id, "name": key.name, "scopes": sorted(key.scopes)})


@reference_bp.get("/openapi.yaml")
def openapi_document() -> Response:
    """The contract, exactly as the package ships it."""
    return Response(reference.document_text(), mimetype="application/yaml",
                    headers={"Cache-Control": "public, max-age=300"})


@reference_bp.get("/docs/api")
def api_reference_page() -> Response:
    """The same document as a page to read: rendered on the server, no script and nothing from elsewhere."""
    return Response(reference.page_html(), mimetype="text/html")
