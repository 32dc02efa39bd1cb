"""The operator's pages: LTI registrations and deployments, signing keys, deliveries, identity, Clever districts.

Each action calls the same service as the admin API and the CLI (``lti.management``, the key ring, the outbox,
identity administration, Clever's sync), in one transaction with its audit entry, as ``admin:<name>``.
"""

from __future__ import annotations

import json
from typing import Any

from flask import request, url_for
from werkzeug.wrappers import Response

import gateway.console.errors as errors
from gateway.clever import CleverServices
from gateway.console.pages import act, admin, bp, field, inside_console, page
from gateway.errors import GatewayError
from gateway.identity import IdentityServices
from gateway.keys import KeysServices, RotationInProgress
from gateway.lti import PRESETS, LtiServices, canvas_configuration, management, tool_configuration
from gateway.store.models.writeback import REPLAYABLE, STATES
from gateway.web import core, services
from gateway.writeback import WritebackServices

PAGE = 100
MAX_REPLAY = 1000


def _choice(name: str, choices: tuple[str, ...]) -> str | None:
    value = request.args.get(name) or None
    return value if value in choices else None


# -- LTI registrations and deployments ---------------------------------------------------------------------


@bp.get("/registrations")
def registrations() -> Response:
    with core().db.transaction() as s:
        listed = management.list_registrations(s, limit=PAGE)
        pending = management.list_deployments(s, status="pending", limit=PAGE)
    return page("registrations.html", "LTI registrations", registrations=listed.data, pending=pending.data,
                presets=sorted((name, p.title) for name, p in PRESETS.items()))


@bp.post("/registrations")
def create_registration() -> Response:
    def work() -> str:
        deployment_ids = [d.strip() for d in field("deployment_ids", 5000).split(",") if d.strip()]
        fields: dict[str, Any] = {"preset": field("preset", 100) or None, "client_id": field("client_id", 255),
                                  "site_url": field("site_url", 2000) or None, "name": field("name", 200) or None,
                                  "deployment_ids": deployment_ids}
        for name in ("issuer", "auth_login_url", "auth_token_url", "jwks_url"):
            if field(name, 2000):
                fields[name] = field(name, 2000)
        with core().db.transaction() as s:
            made = management.create_registration(
                s, {k: v for k, v in fields.items() if v is not None}, actor=admin().actor,
                require_https=core().settings.is_production, option_checks=services(LtiServices).option_checks,
                cipher=core().cipher)
        return f"Added registration {made['id']} ({made['issuer']}, client {made['client_id']})."
    return act(work, url_for("console.registrations"))


@bp.get("/registrations/<registration_id>")
def registration(registration_id: str) -> Response:
    with core().db.transaction() as s:
        shown = management.show_registration(s, registration_id)
        deployments = management.list_deployments(s, registration_id=registration_id, limit=PAGE).data
        history = management.history(s, registration_id)
    tool = services(LtiServices).tool
    config = {"canvas": json.dumps(canvas_configuration(tool), indent=2),
              "generic": json.dumps(tool_configuration(tool), indent=2)}
    return page("registration.html", f"Registration {shown['name'] or shown['id']}", registration=shown,
                deployments=deployments, history=history, tool=tool, config=config)


@bp.post("/registrations/<registration_id>/<any(enable, disable):action>")
def set_registration(registration_id: str, action: str) -> Response:
    status = "active" if action == "enable" else "disabled"

    def work() -> str:
        with core().db.transaction() as s:
            management.set_registration_status(s, registration_id, status, actor=admin().actor)
        return f"Registration {registration_id} is {status}."
    return act(work, url_for("console.registration", registration_id=registration_id))


@bp.get("/deployments")
def deployments() -> Response:
    status = _choice("status", ("pending", "active", "disabled"))
    with core().db.transaction() as s:
        listed = management.list_deployments(s, status=status, limit=PAGE)
    return page("deployments.html", "Deployments", deployments=listed.data, status_filter=status)


@bp.post("/deployments/<deployment_ref>/<any(approve, disable):action>")
def set_deployment(deployment_ref: str, action: str) -> Response:
    status = "active" if action == "approve" else "disabled"

    def work() -> str:
        with core().db.transaction() as s:
            shown = management.set_deployment_status(s, deployment_ref, status, actor=admin().actor)
        return f"Deployment {shown['deployment_id']} is {status}."
    return act(work, _back(url_for("console.deployments")))


def _back(default: str) -> str:
    """The console page a form came from (``back``), else ``default``: never a page outside the console."""
    back = request.form.get("back", "")
    return back if inside_console(back) else default


# -- signing keys ---------------------------------------------------------------------------------------------


@bp.get("/keys")
def keys() -> Response:
    keys_services = services(KeysServices)
    keys_services.keyring.load()
    return page("keys.html", "Tool signing keys", keys=keys_services.keyring.describe(),
                settings=keys_services.settings)


@bp.post("/keys/rotate")
def rotate_key() -> Response:
    keys_services = services(KeysServices)

    def work() -> str:
        try:
            kid = keys_services.keyring.rotate(actor=admin().actor)
        except RotationInProgress as e:
            raise errors.InputInvalid(str(e)[:1].upper() + str(e)[1:] + ".") from e
        hours = keys_services.settings.key_publish_delay_seconds / 3600
        return (f"Published next key {kid}; signing switches to it in {hours:g} h. Copy "
                f"{keys_services.settings.keys_path}/{kid}.pem to every replica before then.")
    return act(work, url_for("console.keys"))


# -- deliveries ---------------------------------------------------------------------------------------------


MAX_CONTEXT_ASSIGNMENTS = 1000


def _assignments_of(context_id: str) -> list[str]:
    """The ids of a context's assignments (deleted ones too: their deliveries stay), through the vendor API's
    service, so a context is named as the API names it (``ctx_...`` or ``clever:<section id>``)."""
    writeback = services(WritebackServices).service
    found: list[str] = []
    cursor: str | None = None
    with core().db.transaction() as s:
        while len(found) < MAX_CONTEXT_ASSIGNMENTS:
            rows, cursor = writeback.list_assignments(s, context_id, cursor=cursor, limit=200, include_deleted=True)
            found += [row["id"] for row in rows]
            if cursor is None:
                break
    return found


@bp.get("/deliveries")
def deliveries() -> Response:
    state = _choice("state", STATES)
    assignment = (request.args.get("assignment") or "").strip()[:100] or None
    context = (request.args.get("context") or "").strip()[:200] or None
    try:
        chosen = _assignments_of(context) if context else None
        if assignment:
            chosen = [a for a in chosen if a == assignment] if chosen is not None else [assignment]
        rows, next_cursor = services(WritebackServices).outbox.page(
            scope=None, state=state, assignments=chosen, cursor=request.args.get("cursor") or None, limit=PAGE)
    except GatewayError as e:
        raise errors.InputInvalid(f"{e.code}: {e.message}") from e
    return page("deliveries.html", "Deliveries", deliveries=rows, next_cursor=next_cursor, state=state,
                assignment=assignment, context=context, states=STATES)


@bp.get("/deliveries/<delivery_id>")
def delivery(delivery_id: str) -> Response:
    shown = services(WritebackServices).outbox.get(delivery_id, scope=None)
    return page("delivery.html", f"Delivery {delivery_id}", delivery=shown,
                remote=json.dumps(shown["remote"], indent=2) if shown["remote"] else None,
                replayable=shown["state"] in REPLAYABLE)


@bp.post("/deliveries/<delivery_id>/replay")
def replay_delivery(delivery_id: str) -> Response:
    def work() -> str:
        with core().db.transaction() as s:
            shown = services(WritebackServices).outbox.replay_one(s, delivery_id, scope=None, actor=admin().actor)
        return f"Delivery {delivery_id} is {shown['state']} again, attempts reset."
    return act(work, url_for("console.delivery", delivery_id=delivery_id))


@bp.post("/deliveries/replay")
def replay_deliveries() -> Response:
    state = field("state", 20)

    def work() -> str:
        if state not in REPLAYABLE:
            raise errors.InputInvalid("Replay takes the dead or the failed deliveries.")
        with core().db.transaction() as s:
            report = services(WritebackServices).outbox.replay_state(s, state, scope=None, actor=admin().actor,
                                                                     limit=MAX_REPLAY)
        more = " More remain: replay again." if report["more"] else ""
        return f"Replayed {len(report['replayed'])} {state} deliveries.{more}"
    return act(work, url_for("console.deliveries", state=state if state in REPLAYABLE else None))


# -- identity -----------------------------------------------------------------------------------------------


@bp.get("/identity")
def identity() -> Response:
    identity_admin = services(IdentityServices).admin
    with core().db.transaction() as s:
        conflicts = identity_admin.conflicts(s, "open", None, PAGE).data
        unmatched = identity_admin.unmatched(s, ("unmatched", "conflict", "unlinked"), district_id=None,
                                             registration_id=None, cursor=None, limit=PAGE).data
    return page("identity.html", "Identity", conflicts=conflicts, unmatched=unmatched)


@bp.get("/identity/users")
def identity_user() -> Response:
    ref = (request.args.get("ref") or "").strip()[:100]
    identity_admin = services(IdentityServices).admin
    with core().db.transaction() as s:
        shown = identity_admin.user_view(s, identity_admin.resolve_ref(s, ref))
    return page("identity_user.html", f"User {shown['user_id']}", user=shown)


@bp.post("/identity/conflicts/<conflict_id>/resolve")
def resolve_conflict(conflict_id: str) -> Response:
    def work() -> str:
        identity_admin = services(IdentityServices).admin
        with core().db.transaction() as s:
            shown = identity_admin.resolve_conflict(s, conflict_id, reason=_reason(), actor=admin().actor)
        return f"Conflict {shown['id']} is {shown['status']}."
    return act(work, url_for("console.identity"))


@bp.post("/identity/link")
def link_identity() -> Response:
    def work() -> str:
        identity_admin = services(IdentityServices).admin
        lti_identity_id, clever_user_id = field("lti_identity_id", 100), field("clever_user_id", 64)
        with core().db.transaction() as s:
            shown = identity_admin.link(s, lti_identity_id, clever_user_id, reason=_reason(), actor=admin().actor)
        return f"Linked {lti_identity_id} to Clever user {clever_user_id} (user {shown['user_id']})."
    return act(work, url_for("console.identity"))


def _reason() -> str:
    reason = field("reason", 500)
    if not reason:
        raise errors.InputInvalid("Say why (the reason is kept in the audit log).")
    return reason


# -- Clever districts -------------------------------------------------------------------------------------


@bp.get("/districts")
def districts() -> Response:
    listed = services(CleverServices).roster.districts(request.args.get("cursor") or None, PAGE)
    return page("districts.html", "Clever districts", districts=listed.data, next_cursor=listed.next_cursor)


@bp.post("/districts/<district_id>/sync")
def sync_district(district_id: str) -> Response:
    def work() -> str:
        services(CleverServices).request_sync(district_id, full=bool(request.form.get("full")), actor=admin().actor)
        return f"Sync of district {district_id} requested; a worker runs it next."
    return act(work, url_for("console.districts"))
