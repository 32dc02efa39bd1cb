"""Small Flask helpers shared by every ``views.py``: the core and services accessors, and response shapes."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Response, current_app, jsonify

from gateway.core import Core

CORE = "gateway.core"
SERVICES = "gateway.services"

S = TypeVar("S")


def core() -> Core:
    """The app's core (settings, database, cipher, metrics, outbound client), built once by the composition root."""
    built: Core = current_app.extensions[CORE]
    return built


def services(kind: type[S]) -> S:
    """A feature's services, built once by the composition root: ``services(LtiServices).launches``."""
    found = current_app.extensions[SERVICES][kind]
    assert isinstance(found, kind)
    return found


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
