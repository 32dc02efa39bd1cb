"""Small Flask helpers shared by every ``views.py``: the services accessor and response shapes."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify

from gateway.bootstrap import Services


def services() -> Services:
    """The app's services, built once by :func:`gateway.bootstrap.bootstrap`."""
    built: Services = current_app.extensions["gateway"]
    return built


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
