"""The Flask application factory: blueprints, request ids, metrics, and error rendering."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from flask import Blueprint, Flask, Response, g, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from gateway.bootstrap import Services, bootstrap
from gateway.errors import (
    GatewayError,
    InternalError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
)
from gateway.ops.logs import configure_logging, log_event, new_request_id, request_id_var
from gateway.ops.pages import error_page
from gateway.settings import Settings, check_production, load_settings

log = logging.getLogger("gateway.app")

MAX_BODY_BYTES = 4 * 1024 * 1024


def _blueprints() -> list[Blueprint]:
    """Every blueprint of the gateway. Feature packages add theirs here, one line each."""
    from gateway.api.views import bp as api_bp
    from gateway.handoff.views import bp as handoff_bp
    from gateway.keys.views import bp as keys_bp
    from gateway.ops.views import bp as ops_bp

    blueprints = [ops_bp, keys_bp, api_bp, handoff_bp]
    # -- lti blueprints --
    from gateway.lti.admin_views import bp as lti_admin_bp
    from gateway.lti.registration_views import bp as lti_registration_bp
    from gateway.lti.views import api_bp as lti_api_bp
    from gateway.lti.views import bp as lti_bp

    blueprints += [lti_bp, lti_api_bp, lti_admin_bp, lti_registration_bp]
    # -- clever blueprints --
    from gateway.clever.api import bp as clever_api_bp
    from gateway.clever.views import bp as clever_bp

    blueprints += [clever_bp, clever_api_bp]
    # -- writeback blueprints --
    from gateway.writeback.api import bp as writeback_api_bp
    from gateway.writeback.views import bp as deliveries_bp

    blueprints += [deliveries_bp, writeback_api_bp]
    # -- identity blueprints --
    from gateway.identity.api import bp as identity_api_bp
    from gateway.identity.views import bp as identity_bp

    blueprints += [identity_bp, identity_api_bp]
    return blueprints


def dev_signing_key_present(settings: Settings) -> bool:
    """Production refuses to start while a dev key sits in the keys dir (it could be published or used)."""
    return settings.keys_path.is_dir() and any(settings.keys_path.glob("*.dev.pem"))


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    """Build the app. ``settings`` default to the environment; tests pass their own or whole ``services``."""
    settings = services.settings if services is not None else (settings or load_settings())
    check_production(settings, signing_key_is_dev=dev_signing_key_present(settings))
    configure_logging(settings.log_level)

    app = Flask(__name__, static_folder=None)  # no static files; every route is in openapi.yaml
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        JSON_SORT_KEYS=False,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="None",
    )
    built = services or bootstrap(settings)
    app.extensions["gateway"] = built
    _load_keys(built)

    for bp in _blueprints():
        app.register_blueprint(bp)
    if not settings.is_production:
        _mount_dev_plugins(app)

    app.before_request(_before)
    app.after_request(_after)
    app.register_error_handler(GatewayError, _handle_gateway_error)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(Exception, _handle_unexpected)
    return app


DEV_PLUGIN_GROUP = "gateway.dev_plugins"


def _mount_dev_plugins(app: Flask) -> None:
    """Dev and test only: mount what installed dev plugins offer (the sandbox). Production never looks."""
    for entry in entry_points(group=DEV_PLUGIN_GROUP):
        mount: Callable[[Flask], None] = entry.load()
        mount(app)


def _load_keys(built: Services) -> None:
    try:
        if built.settings.is_dev:
            built.keyring.ensure_dev_key()
        else:
            built.keyring.load()
    except SQLAlchemyError:
        # The database is down or not migrated yet: serve anyway so /readyz can say so.
        log_event(log, logging.WARNING, "signing keys not loaded; database not ready")


def _before() -> None:
    g.request_id = new_request_id(request.headers.get("X-Request-Id"))
    g.started = time.perf_counter()
    request_id_var.set(g.request_id)
    # Refuse early and explicitly: views that parse bodies leniently would otherwise see an empty body.
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The body is larger than {MAX_BODY_BYTES} bytes.")


def _after(response: Response) -> Response:
    from gateway.web import services

    response.headers["X-Request-Id"] = g.get("request_id", "")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
    elapsed = time.perf_counter() - g.get("started", time.perf_counter())
    metrics = services().metrics
    metrics.requests.labels(method=request.method, endpoint=endpoint, status=str(response.status_code)).inc()
    metrics.request_seconds.labels(endpoint=endpoint).observe(elapsed)
    log_event(
        log,
        logging.INFO,
        "request",
        method=request.method,
        endpoint=endpoint,
        status_code=response.status_code,
        ms=round(elapsed * 1000, 1),
    )
    return response


def wants_problem_json() -> bool:
    """API routes always get problem+json; browser routes get HTML unless they ask for JSON."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json", "application/problem+json"])
    return best in ("application/json", "application/problem+json")


def render_error(error: GatewayError, extra_html: str = "") -> Response:
    from gateway.web import services

    request_id = g.get("request_id")
    services().metrics.errors.labels(code=error.code).inc()
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


def _handle_gateway_error(error: GatewayError) -> Response:
    return render_error(error)


def _handle_http_exception(error: HTTPException) -> Response:
    mapped: GatewayError
    if isinstance(error, RequestEntityTooLarge):
        mapped = PayloadTooLarge(f"The body is larger than {MAX_BODY_BYTES} bytes.")
    elif error.code == 404:
        mapped = NotFound(f"There is nothing at {request.path}.")
    elif error.code == 405:
        mapped = MethodNotAllowed(f"{request.method} is not allowed on {request.path}.")
    else:
        mapped = _generic(error)
    return render_error(mapped)


def _generic(error: HTTPException) -> GatewayError:
    status = error.code or 500
    attrs: dict[str, Any] = {"code": f"HTTP_{status}", "status": status, "title": error.name}
    made: GatewayError = type("HttpError", (GatewayError,), attrs)(error.description)
    return made


def _handle_unexpected(error: Exception) -> Response:
    endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
    # The route template, not the path: paths carry ids of people (Clever user ids, launch ids).
    log.error("unexpected error", exc_info=error, extra={"fields": {"endpoint": endpoint}})
    return render_error(InternalError())


def main_settings() -> Settings:
    return load_settings()
