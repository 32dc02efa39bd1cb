"""Dev mode only: the simulated platform mounted at ``/sandbox/lms`` of the dev server, registered with the gateway.

``make run`` then shows the whole launch in a browser: open http://127.0.0.1:8000/sandbox/lms/ and launch as
the teacher or a student. :mod:`sandbox.plugin` mounts this in dev and test only, and outside dev mode
``/sandbox/*`` answers 404.
The platform's key lives in memory: the dev server runs one worker, so the key that signs is the one
its JWKS publishes.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from gateway.errors import NotFound
from gateway.lti.registrations import Registration, add_deployment, ensure_registration, find_registration
from gateway.ops.logs import log_event
from gateway.store import Database
from gateway.store.repositories.lti_registrations import DeploymentRepository
from gateway.web import core
from sandbox.lms import SandboxPlatform, create_lms_app

# Under the "gateway" logger so the dev server writes these lines as JSON with the gateway's own.
log = logging.getLogger("gateway.sandbox.lms")
MOUNT = "/sandbox/lms"

bp = Blueprint("sandbox_lms_dev", __name__, url_prefix="/sandbox")


def register_sandbox(db: Database, platform: SandboxPlatform) -> Registration:
    """Register the simulated platform and its deployment with the gateway (idempotent)."""
    registration = ensure_registration(db, **platform.registration())
    with db.transaction() as s:
        if DeploymentRepository(s).find(registration.id, platform.deployment_id) is None:
            add_deployment(s, registration.id, platform.deployment_id, status="active", actor="sandbox")
    found = find_registration(db, platform.issuer, platform.client_id)
    assert found is not None
    return found


def mount_platform(app: Flask) -> None:
    """Dev mode: serve the simulated platform under ``/sandbox/lms`` of ``app`` and register it with the gateway."""
    built = app.extensions["gateway"]
    if not built.settings.is_dev:
        return
    config = built.lti.config
    platform = SandboxPlatform(config.public_base_url + MOUNT)
    platform.connect_tool(login_url=config.login_url, launch_url=config.launch_url, jwks_url=config.jwks_url)
    app.extensions["sandbox_lms_platform"] = platform
    app.wsgi_app = DispatcherMiddleware(  # type: ignore[method-assign]  # the documented way to mount a WSGI app
        app.wsgi_app, {MOUNT: create_lms_app(platform)}
    )
    try:
        register_sandbox(built.db, platform)
    except SQLAlchemyError:
        log_event(log, logging.WARNING, "sandbox platform not registered; database not ready")


@bp.before_request
def _dev_only() -> None:
    if not core().settings.is_dev:
        raise NotFound("The sandbox exists in dev mode only.")


@bp.get("/")
def index() -> Response:
    return Response(status=302, headers={"Location": MOUNT + "/"})
