"""The console's sign-in, password change, overview and its own pages: admin accounts, API keys, the audit log."""

from __future__ import annotations

from flask import flash, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

import gateway.console.errors as errors
import gateway.console.session as console_session
from gateway.api.keys import SCOPES, ApiKeyNotFound, ApiKeyService, UnknownScope
from gateway.console.overview import audit_entries
from gateway.console.pages import act, admin, bp, console, field, inside_console, page
from gateway.errors import GatewayError
from gateway.store.models.console import ROLES
from gateway.web import services

# -- sign-in ------------------------------------------------------------------------------------------------


def _safe_next(raw: str | None) -> str:
    return raw if raw is not None and inside_console(raw) else url_for("console.overview")


@bp.get("/sign-in")
def sign_in_form() -> Response:
    return page("sign_in.html", "Sign in", next=_safe_next(request.args.get("next")))


@bp.post("/sign-in")
def sign_in() -> Response:
    accounts = console().accounts
    try:
        token = accounts.sign_in(request.form.get("name", ""), request.form.get("password", ""),
                                 request.form.get("code") or None,
                                 previous_token=session.get(console_session.SESSION_TOKEN))
    except errors.SignInRefused as e:
        return page("sign_in.html", "Sign in", status=e.status, error=e, next=_safe_next(request.form.get("next")))
    _start_session(token)
    accounts.purge_sessions()
    return redirect(_safe_next(request.form.get("next")), 303)


@bp.post("/sign-out")
def sign_out() -> Response:
    console().accounts.sign_out(session.get(console_session.SESSION_TOKEN))
    session.clear()
    return redirect(url_for("console.sign_in_form"), 303)


def _start_session(token: str) -> None:
    """Put a new session token in the cookie: the old cookie's contents (and its CSRF secret) are gone."""
    session.clear()
    g.pop("csrf_token", None)
    session[console_session.SESSION_TOKEN] = token


@bp.get("/password")
def password_form() -> Response:
    return page("password.html", "Change your password")


@bp.post("/password")
def change_password() -> Response:
    try:
        token = console().accounts.change_password(
            admin().id, request.form.get("current_password", ""), request.form.get("new_password", ""),
            request.form.get("new_password_again", ""))
    except errors.ConsoleError as e:
        return page("password.html", "Change your password", status=e.status, error=e)
    # Every session of the account ended with the change; this browser carries on in a new one.
    _start_session(token)
    flash("Your password is changed. Every other session of your account has ended.", "success")
    return redirect(url_for("console.password_form"), 303)


# -- overview and the console's own pages ------------------------------------------------------------------


@bp.get("/")
def overview() -> Response:
    return page("overview.html", "Overview", overview=console().overview())


@bp.get("/admins")
def admins() -> Response:
    return page("admins.html", "Admin accounts", accounts=console().accounts.list(), roles=ROLES)


@bp.post("/admins")
def create_admin() -> Response:
    try:
        made = console().accounts.create(field("name", 100), request.form.get("password", ""),
                                          field("role", 20), totp=bool(request.form.get("totp")),
                                          actor=admin().actor)
    except GatewayError as e:
        flash(f"{e.code}: {e.message}", "error")
        return redirect(url_for("console.admins"), 303)
    # The TOTP secret is on this one answer (no-store) and nowhere after it.
    return page("admins.html", "Admin accounts", accounts=console().accounts.list(), roles=ROLES, made=made)


@bp.post("/admins/<account_id>/disable")
def disable_admin(account_id: str) -> Response:
    def work() -> str:
        info = console().accounts.disable(account_id, actor=admin().actor)
        return f"Disabled {info.name}; their sessions ended."
    return act(work, url_for("console.admins"))


@bp.post("/admins/<account_id>/unlock")
def unlock_admin(account_id: str) -> Response:
    def work() -> str:
        info = console().accounts.unlock(account_id, actor=admin().actor)
        return f"Unlocked {info.name}: they can sign in again."
    return act(work, url_for("console.admins"))


@bp.get("/api-keys")
def api_keys() -> Response:
    return page("api_keys.html", "API keys", keys=services(ApiKeyService).list(), scopes=SCOPES)


@bp.post("/api-keys")
def create_api_key() -> Response:
    keys = services(ApiKeyService)
    try:
        name = field("name", 200)
        if not name:
            raise errors.InputInvalid("Give the key a name.")
        info, secret = keys.create(name, request.form.getlist("scopes"), actor=admin().actor)
    except UnknownScope as e:
        flash(f"{errors.InputInvalid.code}: {e}", "error")
        return redirect(url_for("console.api_keys"), 303)
    except GatewayError as e:
        flash(f"{e.code}: {e.message}", "error")
        return redirect(url_for("console.api_keys"), 303)
    # Shown on this one answer only (no-store); the gateway keeps only its hash.
    return page("api_keys.html", "API keys", keys=keys.list(), scopes=SCOPES, made=info, secret=secret)


@bp.post("/api-keys/<key_id>/revoke")
def revoke_api_key(key_id: str) -> Response:
    def work() -> str:
        try:
            info = services(ApiKeyService).revoke(key_id, actor=admin().actor)
        except ApiKeyNotFound as e:
            raise errors.InputInvalid(f"There is no API key {key_id[:40]!r}.") from e
        return f"Revoked API key {info.name} ({info.id})."
    return act(work, url_for("console.api_keys"))


@bp.get("/audit")
def audit() -> Response:
    filters = {name: (request.args.get(name) or "").strip()[:300] or None for name in ("actor", "action", "target")}
    before = request.args.get("before", "")
    entries, older = audit_entries(console().db, actor=filters["actor"], action=filters["action"],
                                   target=filters["target"], before_id=int(before) if before.isdigit() else None)
    return page("audit.html", "Audit log", entries=entries, older=older, filters=filters)

