"""``/healthz``, ``/readyz`` and ``/metrics``."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import SQLAlchemyError

from gateway.errors import GatewayError
from gateway.health.draining import is_draining
from gateway.health.service import HealthServices
from gateway.web import json_response, services

bp = Blueprint("ops", __name__)


class MetricsUnauthorized(GatewayError):
    code = "METRICS_UNAUTHORIZED"
    status = 401
    title = "Metrics need a token"
    default_hint = "Scrape with `Authorization: Bearer <GATEWAY_METRICS_TOKEN>`."


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up. Says nothing about its dependencies (that is /readyz)."""
    return json_response({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """Ready to serve: not shutting down, database reachable, migrations current, a signing key loaded."""
    if is_draining(current_app.extensions):
        # Told to stop: the balancer takes this replica out while it still answers what it is sent.
        return json_response({"status": "not_ready", "checks": {"shutdown": "draining"}}, 503)
    health = services(HealthServices)
    db = health.core.db
    checks: dict[str, str] = {}
    try:
        db.ping()
        checks["database"] = "ok"
        checks["migrations"] = "ok" if db.migrations_current() else "pending: run `gateway db upgrade`"
    except SQLAlchemyError:
        checks["database"] = "unreachable"
        checks["migrations"] = "unknown"
    if checks["database"] == "ok" and checks["migrations"] == "ok":
        ready = health.signing_key_ready()
        checks["signing_key"] = "ok" if ready else "missing: run `gateway keys generate`"
    else:
        checks["signing_key"] = "unknown"
    ready = all(v == "ok" for v in checks.values())
    return json_response({"status": "ready" if ready else "not_ready", "checks": checks}, 200 if ready else 503)


@bp.get("/metrics")
def metrics() -> Response:
    core = services(HealthServices).core
    token = core.settings.metrics_token
    if token:
        presented = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(presented.encode(), token.encode()):
            raise MetricsUnauthorized(headers={"WWW-Authenticate": "Bearer"})
    return Response(generate_latest(core.metrics.registry), content_type=CONTENT_TYPE_LATEST)  # has its charset
