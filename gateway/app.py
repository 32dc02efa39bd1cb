"""The Flask application factory: blueprints, request ids, metrics, and error rendering."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from importlib.metadata import entry_points

from flask import Flask, Response, g, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

import gateway.api.headers as security_headers
from gateway.api.guard import check_request
from gateway.api.limits import install_rate_limits
from gateway.api.problems import (
    MAX_BODY_BYTES,
    handle_gateway_error,
    handle_http_exception,
    handle_unexpected,
)
from gateway.bootstrap import Services, bootstrap, build_worker
from gateway.errors import GatewayError, PayloadTooLarge
from gateway.ops.logs import configure_logging, log_event, new_request_id, request_id_var
from gateway.runtime import runs_in_process
from gateway.runtime.embedded import WORKER_FACTORY
from gateway.settings import Settings, check_production, load_settings
from gateway.web import CORE, SERVICES, core

log = logging.getLogger("gateway.app")


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    """Build the app. ``settings`` default to the environment; tests pass their own or whole ``services``."""
    settings = services.settings if services is not None else (settings or load_settings())
    # Production refuses a dev key in the keys dir (it could be published or used) and having no key at all.
    check_production(settings)
    if services is None:
        settings = dev_settings(settings)
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
    app.extensions[CORE] = built.core
    app.extensions[SERVICES] = {type(f.services): f.services for f in built.features}
    if runs_in_process(settings):
        app.extensions[WORKER_FACTORY] = lambda: build_worker(built)
    _load_keys(built)

    for feature in built.features:
        for bp in feature.blueprints():
            app.register_blueprint(bp)
    if not settings.is_production:
        _mount_dev_plugins(app)

    app.before_request(_before)
    app.before_request(check_request)  # NUL, surrogates, JSON depth: refused here for every route
    app.after_request(_after)
    install_rate_limits(app, settings)  # after _before: a refusal carries the request id
    app.register_error_handler(GatewayError, handle_gateway_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
    return app


DEV_PLUGIN_GROUP = "gateway.dev_plugins"
DEV_SETTINGS_GROUP = "gateway.dev_settings"


def dev_settings(settings: Settings) -> Settings:
    """Dev and test: let installed dev plugins fill in settings before anything is built (the sandbox points an
    unconfigured Clever at its simulator). Production never looks; each plugin returns the settings unchanged
    where it has nothing to add, and never overrides what the environment set."""
    if settings.is_production:
        return settings
    for entry in entry_points(group=DEV_SETTINGS_GROUP):
        adjust: Callable[[Settings], Settings] = entry.load()
        settings = adjust(settings)
    return settings


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


# Metric labels come from this set and the app's own route templates only: a made-up method name or path must not
# add a label set (each one stays in /metrics for the life of the process).
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _after(response: Response) -> Response:
    response.headers["X-Request-Id"] = g.get("request_id", "")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    security_headers.apply(response, core().settings)
    endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
    method = request.method if request.method in KNOWN_METHODS else "other"
    elapsed = time.perf_counter() - g.get("started", time.perf_counter())
    metrics = core().metrics
    metrics.requests.labels(method=method, endpoint=endpoint, status=str(response.status_code)).inc()
    metrics.request_seconds.labels(endpoint=endpoint).observe(elapsed)
    log_event(
        log,
        logging.INFO,
        "request",
        method=method,
        endpoint=endpoint,
        status_code=response.status_code,
        ms=round(elapsed * 1000, 1),
    )
    return response
