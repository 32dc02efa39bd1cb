"""Managing LMS registrations and deployments: the one service behind ``gateway registrations|deployments``
and ``/api/v1/admin/lti/...``.

Plain values in, plain documents out, no Flask. Each write runs in the caller's session (the admin API's
unit of work, which also holds its ``Idempotency-Key``) and writes its audit entry there, so a change and
its record of who made it commit together. Refusals are :class:`~gateway.errors.GatewayError` s with
stable codes (``LTI_REGISTRATION_NOT_FOUND``, ``LTI_REGISTRATION_EXISTS``, ``VALIDATION_FAILED`` ...).

``issuer`` and ``client_id`` identify a registration (the users and courses seen through it hang off it),
so they cannot be changed: register anew instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

import gateway.lti.errors as errors
import gateway.lti.registrations as registrations
from gateway.api.cursor import Cursor, Page
from gateway.crypto import Cipher
from gateway.errors import ValidationFailed
from gateway.lti.migration import MAX_SECRET, secret_context
from gateway.lti.presets import ENDPOINTS, PRESETS, PresetError, apply_preset
from gateway.lti.registrations import (
    DEPLOYMENT_STATUSES,
    LMS_KINDS,
    REGISTRATION_STATUSES,
    RegistrationExists,
)
from gateway.store.models.base import iso, utcnow
from gateway.store.models.lti import LtiDeploymentRow, LtiRegistrationRow
from gateway.store.repositories.audit import AuditRepository
from gateway.store.repositories.lti_registrations import DeploymentRepository, RegistrationRepository

MAX_URL = 2000
MAX_ID = 255
MAX_NAME = 200
MAX_OPTIONS_BYTES = 16 * 1024
MAX_DEPLOYMENTS_AT_ONCE = 100
URL_FIELDS = ("auth_login_url", "auth_token_url", "jwks_url")
UPDATABLE = ("name", "lms", "auth_login_url", "auth_token_url", "auth_audience", "jwks_url",
             "auto_activate_deployments", "options", "granted_scopes", "lti11_secret")
MAX_SCOPES = 50
CREATE_FIELDS = ("preset", "site_url", "issuer", "client_id", "deployment_ids", *UPDATABLE)
REGISTRATIONS = Cursor("lti.registrations")
DEPLOYMENTS = Cursor("lti.deployments")


class _Problems:
    """Collects field problems and raises them together as one ``VALIDATION_FAILED``."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.items.append({"field": field, "message": message})

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationFailed(
                "; ".join(f"{p['field']} {p['message']}" for p in self.items), extra={"errors": self.items}
            )


def _check_url(problems: _Problems, field: str, value: Any, *, require_https: bool) -> None:
    if not isinstance(value, str) or len(value) > MAX_URL:
        problems.add(field, f"must be a URL of at most {MAX_URL} characters")
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.add(field, "must be an absolute http(s) URL")
    elif require_https and parts.scheme != "https":
        problems.add(field, "must use https")


def _check_text(problems: _Problems, field: str, value: Any, limit: int) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        problems.add(field, f"must be a non-empty string of at most {limit} characters")


# Checks of option keys that other features give meaning to (identity's matching rules): key -> check, which
# returns what is wrong with a value, or None. A wrong type would otherwise silently mean the default. These are
# every known option: any other key is refused with this list.
OptionChecks = Mapping[str, Callable[[Any], str | None]]


def _check_options(problems: _Problems, value: Any, checks: OptionChecks, *, patch: bool) -> None:
    if not isinstance(value, dict) or not all(isinstance(k, str) and 0 < len(k) <= 100 for k in value):
        problems.add("options", "must be an object with keys of 1 to 100 characters")
        return
    if len(json.dumps(value)) > MAX_OPTIONS_BYTES:
        problems.add("options", f"must be at most {MAX_OPTIONS_BYTES} bytes of JSON")
    if not patch and any(v is None for v in value.values()):
        problems.add("options", "values must not be null (null removes a key in an update)")
    # A key nothing reads would be stored and silently mean nothing (`match_email` for `email_matching`); removing
    # one (null in an update) stays possible, so options stored before this check can be cleaned up.
    for key in sorted(k for k, v in value.items() if k not in checks and v is not None):
        problems.add(f"options.{key}", f"is not a known option; the known options are {', '.join(sorted(checks))}")
    for key in sorted(set(value) & set(checks)):
        problem = checks[key](value[key])
        if problem is not None:
            problems.add(f"options.{key}", problem)


def _check_common(problems: _Problems, fields: Mapping[str, Any], *, require_https: bool) -> None:
    for field in URL_FIELDS:
        if field in fields:
            _check_url(problems, field, fields[field], require_https=require_https)
    if fields.get("auth_audience") is not None:
        _check_text(problems, "auth_audience", fields["auth_audience"], MAX_URL)
    if "name" in fields:
        _check_text(problems, "name", fields["name"], MAX_NAME)
    if "lms" in fields and fields["lms"] not in LMS_KINDS:
        problems.add("lms", f"must be one of {', '.join(LMS_KINDS)}")
    if "auto_activate_deployments" in fields and not isinstance(fields["auto_activate_deployments"], bool):
        problems.add("auto_activate_deployments", "must be true or false")
    scopes = fields.get("granted_scopes")
    if scopes is not None and not (isinstance(scopes, list) and len(scopes) <= MAX_SCOPES and all(
            isinstance(s, str) and 0 < len(s) <= MAX_ID and not s.isspace() for s in scopes)):
        problems.add("granted_scopes", f"must be a list of at most {MAX_SCOPES} scope URIs (or null: not known)")
    if fields.get("lti11_secret") is not None:
        _check_text(problems, "lti11_secret", fields["lti11_secret"], MAX_SECRET)


def resolve_new_registration(fields: Mapping[str, Any], *, require_https: bool,
                             option_checks: OptionChecks | None = None) -> dict[str, Any]:
    """What to store for a new registration: the preset's endpoints under the explicit values, checked."""
    problems = _Problems()
    for unknown in sorted(set(fields) - set(CREATE_FIELDS)):
        problems.add(unknown, "is not a registration field")
    _check_text(problems, "client_id", fields.get("client_id"), MAX_ID)
    problems.raise_if_any()
    values = {k: v for k, v in fields.items() if v is not None and k not in ("preset", "site_url")}
    preset = fields.get("preset")
    if preset is not None:
        if preset not in PRESETS:
            problems.add("preset", f"must be one of {', '.join(PRESETS)}")
            problems.raise_if_any()
        site_url = fields.get("site_url")
        if site_url is not None and not isinstance(site_url, str):
            problems.add("site_url", "must be a URL")
            problems.raise_if_any()
        try:
            filled = apply_preset(preset, client_id=fields["client_id"], site_url=site_url,
                                  given={k: values.get(k) for k in ENDPOINTS})
        except PresetError as e:
            problems.add(e.field, str(e))
            problems.raise_if_any()
            raise  # unreachable: raise_if_any raised
        values = {**values, **filled, **({"lms": fields["lms"]} if fields.get("lms") is not None else {})}
    elif fields.get("site_url") is not None:
        problems.add("site_url", "is used only with a preset")
    for field in ("issuer", *URL_FIELDS):
        if not values.get(field):
            problems.add(field, "is required (or choose a preset that fills it)")
    if values.get("issuer"):
        _check_url(problems, "issuer", values["issuer"], require_https=require_https)
    _check_common(problems, values, require_https=require_https)
    if "options" in values:
        _check_options(problems, values["options"], option_checks or {}, patch=False)
    deployment_ids = values.get("deployment_ids", [])
    if not isinstance(deployment_ids, list | tuple) or len(deployment_ids) > MAX_DEPLOYMENTS_AT_ONCE or not all(
        isinstance(d, str) and 0 < len(d) <= MAX_ID for d in deployment_ids
    ):
        problems.add("deployment_ids", f"must be at most {MAX_DEPLOYMENTS_AT_ONCE} ids of 1 to {MAX_ID} characters")
    elif len(set(deployment_ids)) != len(deployment_ids):
        problems.add("deployment_ids", "must not repeat an id")
    problems.raise_if_any()
    values["deployment_ids"] = tuple(deployment_ids)
    values.setdefault("lms", "other")
    return values


# -- documents ------------------------------------------------------------------------------------------


def registration_document(row: LtiRegistrationRow, counts: Mapping[str, int]) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "issuer": row.issuer,
        "client_id": row.client_id,
        "lms": row.lms,
        "status": row.status,
        "auth_login_url": row.auth_login_url,
        "auth_token_url": row.auth_token_url,
        "auth_audience": row.auth_audience,
        "token_audience": row.auth_audience or row.auth_token_url,
        "jwks_url": row.jwks_url,
        "auto_activate_deployments": row.auto_activate_deployments,
        "options": dict(row.options or {}),
        "granted_scopes": list(row.granted_scopes) if row.granted_scopes is not None else None,
        # Write-only: whether it is there, never what it is.
        "lti11_secret": "set" if row.lti11_secret_encrypted else "not set",
        "deployment_counts": {status: counts.get(status, 0) for status in DEPLOYMENT_STATUSES},
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


def deployment_document(row: LtiDeploymentRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "registration_id": row.registration_id,
        "deployment_id": row.deployment_id,
        "name": row.name,
        "status": row.status,
        "clever_district_id": row.clever_district_id,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


def _registration(session: Session, registration_id: str) -> LtiRegistrationRow:
    row = RegistrationRepository(session).get(registration_id)
    if row is None:
        raise errors.RegistrationNotFound(f"There is no registration {registration_id[:80]!r}.")
    return row


def _deployment(session: Session, deployment_ref: str) -> LtiDeploymentRow:
    row = DeploymentRepository(session).get(deployment_ref)
    if row is None:
        raise errors.DeploymentNotFound(f"There is no deployment {deployment_ref[:80]!r}.")
    return row


def _document(session: Session, row: LtiRegistrationRow) -> dict[str, Any]:
    return registration_document(row, DeploymentRepository(session).status_counts([row.id])[row.id])


# -- registrations --------------------------------------------------------------------------------------


def list_registrations(session: Session, *, status: str | None = None, cursor: str | None = None,
                       limit: int = 100) -> Page:
    if status is not None and status not in REGISTRATION_STATUSES:
        raise ValidationFailed(extra={"errors": [{"field": "status", "message": "must be active or disabled"}]})
    key = REGISTRATIONS.decode(cursor)
    rows = RegistrationRepository(session).page(status=status, after=key[0] if key else None, limit=limit + 1)
    counts = DeploymentRepository(session).status_counts([r.id for r in rows[:limit]])
    data = [registration_document(r, counts[r.id]) for r in rows[:limit]]
    return Page(data, REGISTRATIONS.encode(rows[limit - 1].id) if len(rows) > limit else None)


def show_registration(session: Session, registration_id: str) -> dict[str, Any]:
    return _document(session, _registration(session, registration_id))


def _set_lti11_secret(row: LtiRegistrationRow, secret: str | None, cipher: Cipher) -> None:
    row.lti11_secret_encrypted = None if secret is None else cipher.encrypt(secret, secret_context(row.id))


def create_registration(session: Session, fields: Mapping[str, Any], *, actor: str,
                        require_https: bool, option_checks: OptionChecks,
                        cipher: Cipher) -> dict[str, Any]:
    """Add a registration; ``cipher`` encrypts ``lti11_secret`` when one is given."""
    values = resolve_new_registration(fields, require_https=require_https, option_checks=option_checks)
    repo = RegistrationRepository(session)
    if repo.by_issuer_and_client(values["issuer"], values["client_id"]) is not None:
        raise errors.RegistrationDuplicate(
            f"A registration for issuer {values['issuer']} and client id {values['client_id']} exists."
        )
    try:
        made = registrations.add_registration(
            session,
            issuer=values["issuer"], client_id=values["client_id"], auth_login_url=values["auth_login_url"],
            auth_token_url=values["auth_token_url"], jwks_url=values["jwks_url"], name=values.get("name"),
            lms=values["lms"], auth_audience=values.get("auth_audience"),
            auto_activate_deployments=bool(values.get("auto_activate_deployments", False)),
            options=values.get("options"), granted_scopes=values.get("granted_scopes"),
            deployment_ids=values["deployment_ids"], actor=actor,
            audit={**({"preset": fields["preset"]} if fields.get("preset") else {}),
                   **({"lti11_secret": "set"} if values.get("lti11_secret") else {})} or None,
        )
    except RegistrationExists as e:
        raise errors.RegistrationDuplicate() from e
    if values.get("lti11_secret"):
        _set_lti11_secret(_registration(session, made.id), values["lti11_secret"], cipher)
        session.flush()
    return show_registration(session, made.id)


def update_registration(session: Session, registration_id: str, changes: Mapping[str, Any], *, actor: str,
                        require_https: bool, option_checks: OptionChecks,
                        cipher: Cipher) -> dict[str, Any]:
    """Change the fields given; ``options`` is a merge patch (RFC 7396: a null value removes that key);
    ``lti11_secret`` replaces the secret (encrypted with ``cipher``), or null removes it."""
    problems = _Problems()
    for field in sorted(set(changes) - set(UPDATABLE)):
        fixed = field in ("issuer", "client_id")
        problems.add(field, "identifies the registration and cannot change; add a new registration" if fixed
                     else "is not a field that can be updated")
    if "name" in changes and changes["name"] is None:
        problems.add("name", "must not be null")
    for field in (*URL_FIELDS, "lms", "auto_activate_deployments"):
        if field in changes and changes[field] is None:
            problems.add(field, "must not be null")
    _check_common(problems, {k: v for k, v in changes.items() if v is not None}, require_https=require_https)
    if "options" in changes:
        _check_options(problems, changes["options"], option_checks, patch=True)
    problems.raise_if_any()
    row = _registration(session, registration_id)
    changed: dict[str, Any] = {}
    for field, value in changes.items():
        if field == "options":
            merged = {k: v for k, v in {**(row.options or {}), **value}.items() if v is not None}
            if merged != (row.options or {}):
                changed["options"] = {"from": dict(row.options or {}), "to": merged}
                row.options = merged
        elif field == "lti11_secret":
            if value is not None or row.lti11_secret_encrypted is not None:
                # The audit says that it changed, never what it is.
                changed["lti11_secret"] = {"to": "set" if value is not None else "not set"}
                _set_lti11_secret(row, value, cipher)
        elif getattr(row, field) != value:
            changed[field] = {"from": getattr(row, field), "to": value}
            setattr(row, field, value)
    if changed:
        row.updated_at = utcnow()
        AuditRepository(session).record(actor, "lti.registration.update", row.id, changed=changed)
        session.flush()
    return _document(session, row)


def set_registration_status(session: Session, registration_id: str, status: str, *, actor: str) -> dict[str, Any]:
    """Disable (launches refused with ``LTI_REGISTRATION_DISABLED``) or enable again; a no-op is not audited."""
    if status not in REGISTRATION_STATUSES:
        raise ValueError(f"status must be one of {', '.join(REGISTRATION_STATUSES)}")
    row = _registration(session, registration_id)
    if row.status != status:
        previous, row.status, row.updated_at = row.status, status, utcnow()
        AuditRepository(session).record(actor, "lti.registration.status", row.id, status=status, previous=previous)
        session.flush()
    return _document(session, row)


# -- deployments ----------------------------------------------------------------------------------------


def list_deployments(session: Session, *, registration_id: str | None = None, status: str | None = None,
                     cursor: str | None = None, limit: int = 100) -> Page:
    if status is not None and status not in DEPLOYMENT_STATUSES:
        raise ValidationFailed(
            extra={"errors": [{"field": "status", "message": f"must be one of {', '.join(DEPLOYMENT_STATUSES)}"}]}
        )
    if registration_id is not None:
        _registration(session, registration_id)
    key = DEPLOYMENTS.decode(cursor)
    rows = DeploymentRepository(session).page(registration_id=registration_id, status=status,
                                              after=key[0] if key else None, limit=limit + 1)
    next_cursor = DEPLOYMENTS.encode(rows[limit - 1].id) if len(rows) > limit else None
    return Page([deployment_document(r) for r in rows[:limit]], next_cursor)


def set_deployment_status(session: Session, deployment_ref: str, status: str, *, actor: str) -> dict[str, Any]:
    """Approve (``active``) or disable a deployment; a no-op is not audited."""
    if status not in ("active", "disabled"):
        raise ValueError("a deployment is approved (active) or disabled")
    row = _deployment(session, deployment_ref)
    if row.status != status:
        previous, row.status, row.updated_at = row.status, status, utcnow()
        AuditRepository(session).record(
            actor, "lti.deployment.status", row.id, status=status, previous=previous,
            registration_id=row.registration_id, deployment_id=row.deployment_id,
        )
        session.flush()
    return deployment_document(row)


def add_deployment(session: Session, registration_id: str, deployment_id: Any, *, actor: str,
                   name: Any = None) -> dict[str, Any]:
    """Accept a deployment before its first launch (an operator who knows the id), ``active`` at once."""
    problems = _Problems()
    _check_text(problems, "deployment_id", deployment_id, MAX_ID)
    if name is not None:
        _check_text(problems, "name", name, MAX_NAME)
    problems.raise_if_any()
    _registration(session, registration_id)
    if DeploymentRepository(session).find(registration_id, deployment_id) is not None:
        raise errors.DeploymentDuplicate(f"Deployment {deployment_id[:80]!r} of {registration_id} is known already.")
    made = registrations.add_deployment(session, registration_id, deployment_id, status="active", actor=actor,
                                        name=name)
    return deployment_document(_deployment(session, made.id))


def approve_by_platform_id(session: Session, registration_id: str, deployment_id: str, *,
                           actor: str) -> dict[str, Any]:
    """Approve the deployment the platform calls ``deployment_id``, adding it when no launch has shown it yet."""
    found = DeploymentRepository(session).find(registration_id, deployment_id)
    if found is None:
        return add_deployment(session, registration_id, deployment_id, actor=actor)
    return set_deployment_status(session, found.id, "active", actor=actor)


def find_deployment_ref(session: Session, registration_id: str, deployment_id: str) -> str:
    _registration(session, registration_id)
    found = DeploymentRepository(session).find(registration_id, deployment_id)
    if found is None:
        raise errors.DeploymentNotFound(f"Registration {registration_id} has no deployment {deployment_id[:80]!r}.")
    return found.id


def history(session: Session, target: str, *, limit: int = 20) -> Sequence[dict[str, Any]]:
    """The audit entries about one registration or deployment, newest first (who changed what, when)."""
    return [
        {"at": iso(e.at), "actor": e.actor, "action": e.action, "details": dict(e.details or {})}
        for e in AuditRepository(session).list(target=target, limit=limit)
    ]
