"""Rendering refusals: ``application/problem+json`` for API clients, an HTML page for people.

The app factory registers :func:`handle_gateway_error`, :func:`handle_http_exception` and
:func:`handle_unexpected` app-wide. A blueprint whose refusals need more (a link on the page, a metric) registers
its own handler for its error class and renders through :func:`render_error`; views raise, never catch to render.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Response, g, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from gateway.errors import GatewayError, InternalError, MethodNotAllowed, NotFound, PayloadTooLarge
from gateway.ops.logs import log_event
from gateway.ops.pages import error_page
from gateway.web import core

# The request log's logger: an operator reads a request's refusal beside its request line.
log = logging.getLogger("gateway.app")

MAX_BODY_BYTES = 4 * 1024 * 1024


def wants_problem_json() -> bool:
    """API routes always get problem+json; browser routes get HTML unless they ask for JSON."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json", "application/problem+json"])
    return best in ("application/json", "application/problem+json")


def render_error(error: GatewayError, extra_html: str = "") -> Response:
    """The refusal as problem+json or as a page (with ``extra_html``, such as a way to start again)."""
    request_id = g.get("request_id")
    core().metrics.errors.labels(code=error.code).inc()
    log_event(log, logging.WARNING if error.status < 500 else logging.ERROR, "refused", error_code=error.code,
              status_code=error.status, endpoint=request.url_rule.rule if request.url_rule else "unmatched")
    if wants_problem_json():
        response = Response(json.dumps(error.problem(request_id)), status=error.status,
                            mimetype="application/problem+json")
    else:
        html = error_page(title=error.title, message=error.message, hint=error.hint, code=error.code,
                          request_id=request_id, extra_html=extra_html)
        response = Response(html, status=error.status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def handle_gateway_error(error: GatewayError) -> Response:
    return render_error(error)


def handle_http_exception(error: HTTPException) -> Response:
    mapped: GatewayError
    if isinstance(error, RequestEntityTooLarge):
        mapped = PayloadTooLarge(f"The body is larger than {MAX_BODY_BYTES} bytes.")
    elif error.code == 404:
        mapped = NotFound(f"There is nothing at {request.path}.")
    elif error.code == 405:
        allowed = sorted(getattr(error, "valid_methods", None) or [])
        mapped = MethodNotAllowed(f"{request.method[:20]} is not allowed on {request.path}.",
                                  headers={"Allow": ", ".join(allowed)} if allowed else None)
    else:
        mapped = _generic(error)
    return render_error(mapped)


def _generic(error: HTTPException) -> GatewayError:
    status = error.code or 500
    attrs: dict[str, Any] = {"code": f"HTTP_{status}", "status": status, "title": error.name}
    made: GatewayError = type("HttpError", (GatewayError,), attrs)(error.description)
    return made


def handle_unexpected(error: Exception) -> Response:
    endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
    # The route template, not the path: paths carry ids of people (Clever user ids, launch ids).
    log_event(log, logging.ERROR, "unexpected error", exc_info=error, endpoint=endpoint)
    return render_error(InternalError())
