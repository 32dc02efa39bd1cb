"""The console's blueprint and what every page shares: the guard each request passes, the page frame, and how an
action reports. The routes are in :mod:`.views` (sign-in, overview, the console's own pages) and
:mod:`.operations` (the operator's work), both on :data:`bp`.

Every POST passes, in order: the CSRF check (Flask-WTF), a live session, and (except sign-out and a change of one's
own password) the ``admin`` role.
A refusal changes nothing. An action's own refusal (a service's :class:`~gateway.errors.GatewayError`) is shown on
the page it came from, with its stable code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, current_app, flash, g, redirect, render_template, request, session, url_for
from flask.sansio.app import App
from flask.sansio.blueprints import BlueprintSetupState
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

import gateway.console.errors as errors
import gateway.console.session as console_session
from gateway.console.accounts import Admin
from gateway.console.config import ConsoleConfig
from gateway.console.service import ConsoleServices
from gateway.errors import GatewayError
from gateway.web import CORE, services


class ConsoleBlueprint(Blueprint):
    """Registers its routes only when the console is enabled, under the configured prefix: off means 404."""

    def register(self, app: App, options: dict[str, Any]) -> None:
        config = ConsoleConfig.from_settings(app.extensions[CORE].settings)
        if not config.enabled:
            return
        assert isinstance(app, Flask)  # the gateway's app; Blueprint.register is typed for Flask's base class
        console_session.install(app, config.path)
        super().register(app, {**options, "url_prefix": config.path})


bp = ConsoleBlueprint("console", __name__, template_folder="templates")
PUBLIC = frozenset({"console.sign_in_form", "console.sign_in"})
# Every person acts on their own session and password, whatever their role.
ANY_ROLE = frozenset({"console.sign_out", "console.change_password"})


def console() -> ConsoleServices:
    return services(ConsoleServices)


def admin() -> Admin:
    signed_in: Admin = g.console_admin
    return signed_in


@bp.record_once
def _note(state: BlueprintSetupState) -> None:
    state.app.jinja_env.globals.setdefault("console_nav", NAV)


@bp.before_request
def guard() -> Response | None:
    if request.method == "POST":
        try:
            current_app.extensions["csrf"].protect()
        except CSRFError as e:
            raise errors.CsrfRefused() from e
    if request.endpoint in PUBLIC:
        return None
    found = console().accounts.session(session.get(console_session.SESSION_TOKEN))
    if found is None:
        session.pop(console_session.SESSION_TOKEN, None)
        if request.method == "GET":
            return redirect(url_for("console.sign_in_form", next=request.full_path.rstrip("?")), 303)
        raise errors.SignInRequired()
    g.console_admin = found
    if request.method == "POST" and request.endpoint not in ANY_ROLE and not found.can_act:
        raise errors.RoleForbidden(f"{found.name} has the {found.role} role; this action needs admin.")
    return None


NAV = (
    ("console.overview", "Overview"),
    ("console.registrations", "LTI registrations"),
    ("console.deployments", "Deployments"),
    ("console.keys", "Signing keys"),
    ("console.deliveries", "Deliveries"),
    ("console.identity", "Identity"),
    ("console.districts", "Clever districts"),
    ("console.api_keys", "API keys"),
    ("console.admins", "Admin accounts"),
    ("console.audit", "Audit log"),
)


def page(template: str, title: str, status: int = 200, **context: Any) -> Response:
    html = render_template(f"console/{template}", title=title, admin=g.get("console_admin"), **context)
    return Response(html, status=status, mimetype="text/html")


def act(work: Callable[[], str], back: str) -> Response:
    """Run one action: its message, or its refusal with the stable code, on the page the form came from."""
    try:
        flash(work(), "success")
    except GatewayError as e:
        flash(f"{e.code}: {e.message}", "error")
    return redirect(back, 303)


def inside_console(url: str) -> bool:
    """Whether ``url`` is a path of the console's own (never another site, nor another page of this one): where a
    form's ``back`` or a sign-in's ``next`` may send the browser."""
    prefix = console().config.path
    return url.startswith(prefix + "/") and "//" not in url and "\\" not in url


def field(name: str, limit: int = 500) -> str:
    value = request.form.get(name, "").strip()
    if len(value) > limit:
        raise errors.InputInvalid(f"{name} is longer than {limit} characters.")
    return value
