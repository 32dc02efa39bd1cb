"""Platform registrations and deployments as plain values, and the functions that add and find them.

A registration is what an LMS administrator set up for the tool: unique by (issuer, client id),
with the platform's OIDC auth URL, token URL (and separate token audience for Brightspace), and
JWKS URL (LTI 1.3 Core §3.1.3). Deployments belong to a registration and are ``active``, ``pending``
(seen in a launch, waiting for an administrator) or ``disabled``. Management (CLI, admin API,
presets, dynamic registration) builds on these functions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.store import Database
from gateway.store.cache import ReadCache
from gateway.store.models.base import new_id, utcnow
from gateway.store.models.lti import LtiDeploymentRow, LtiRegistrationRow
from gateway.store.repositories.audit import AuditRepository
from gateway.store.repositories.lti_registrations import DeploymentRepository, RegistrationRepository

LMS_KINDS = ("canvas", "schoology", "blackboard", "brightspace", "moodle", "sandbox", "other")
REGISTRATION_STATUSES = ("active", "disabled")
DEPLOYMENT_STATUSES = ("active", "pending", "disabled")


@dataclass(frozen=True)
class Registration:
    id: str
    name: str
    issuer: str
    client_id: str
    lms: str
    auth_login_url: str
    auth_token_url: str
    auth_audience: str | None
    jwks_url: str
    auto_activate_deployments: bool
    status: str
    options: dict[str, Any] = field(default_factory=dict)
    # The LTI 1.1 shared secret, still encrypted (gateway.lti.migration.secret_context): decrypted only to check a
    # launch's migration claim, so a cached registration never holds it in the clear.
    lti11_secret_encrypted: str | None = field(default=None, repr=False)
    granted_scopes: tuple[str, ...] | None = None  # None: the platform never said (see LtiRegistrationRow)

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def token_audience(self) -> str:
        """The ``aud`` of client assertions: the separate audience when the LMS publishes one."""
        return self.auth_audience or self.auth_token_url

    @classmethod
    def from_row(cls, row: LtiRegistrationRow) -> Registration:
        return cls(
            id=row.id,
            name=row.name,
            issuer=row.issuer,
            client_id=row.client_id,
            lms=row.lms,
            auth_login_url=row.auth_login_url,
            auth_token_url=row.auth_token_url,
            auth_audience=row.auth_audience,
            jwks_url=row.jwks_url,
            auto_activate_deployments=row.auto_activate_deployments,
            status=row.status,
            options=dict(row.options or {}),
            lti11_secret_encrypted=row.lti11_secret_encrypted,
            granted_scopes=tuple(row.granted_scopes) if row.granted_scopes is not None else None,
        )

    def grants(self, scope: str) -> bool:
        """Whether the platform granted ``scope``; True when the registration's scopes are not known (the
        launches' service claims then say alone what is offered)."""
        return self.granted_scopes is None or scope in self.granted_scopes


@dataclass(frozen=True)
class Deployment:
    id: str
    registration_id: str
    deployment_id: str
    status: str
    name: str | None = None
    clever_district_id: str | None = None

    @classmethod
    def from_row(cls, row: LtiDeploymentRow) -> Deployment:
        return cls(
            id=row.id,
            registration_id=row.registration_id,
            deployment_id=row.deployment_id,
            status=row.status,
            name=row.name,
            clever_district_id=row.clever_district_id,
        )


class RegistrationExists(ValueError):
    """A registration with this (issuer, client id) is already there."""


def add_registration(
    session: Session,
    *,
    issuer: str,
    client_id: str,
    auth_login_url: str,
    auth_token_url: str,
    jwks_url: str,
    name: str | None = None,
    lms: str = "other",
    auth_audience: str | None = None,
    auto_activate_deployments: bool = False,
    options: dict[str, Any] | None = None,
    granted_scopes: list[str] | None = None,
    deployment_ids: tuple[str, ...] = (),
    deployment_status: str = "active",
    actor: str = "system",
    audit: dict[str, Any] | None = None,
) -> Registration:
    """Add a registration (and its known deployments) with its audit entry; ``audit`` adds details to that entry."""
    if lms not in LMS_KINDS:
        raise ValueError(f"lms must be one of {', '.join(LMS_KINDS)}")
    repo = RegistrationRepository(session)
    if repo.by_issuer_and_client(issuer, client_id) is not None:
        raise RegistrationExists(f"a registration for ({issuer}, {client_id}) exists")
    now = utcnow()
    row = LtiRegistrationRow(
        id=new_id("reg"),
        name=name or f"{issuer} ({client_id})",
        issuer=issuer,
        client_id=client_id,
        lms=lms,
        auth_login_url=auth_login_url,
        auth_token_url=auth_token_url,
        auth_audience=auth_audience,
        jwks_url=jwks_url,
        auto_activate_deployments=auto_activate_deployments,
        options=dict(options or {}),
        granted_scopes=list(granted_scopes) if granted_scopes is not None else None,
        status="active",
        created_at=now,
        updated_at=now,
    )
    repo.add(row)
    AuditRepository(session).record(
        actor, "lti.registration.add", row.id, issuer=issuer, client_id=client_id, lms=lms, **(audit or {})
    )
    for deployment_id in deployment_ids:
        add_deployment(session, row.id, deployment_id, status=deployment_status, actor=actor)
    return Registration.from_row(row)


def add_deployment(
    session: Session,
    registration_id: str,
    deployment_id: str,
    *,
    status: str,
    actor: str,
    now: dt.datetime | None = None,
    name: str | None = None,
) -> Deployment:
    """Add a deployment with its audit entry (a launch records a new one this way)."""
    if status not in DEPLOYMENT_STATUSES:
        raise ValueError(f"status must be one of {', '.join(DEPLOYMENT_STATUSES)}")
    now = now or utcnow()
    row = LtiDeploymentRow(
        id=new_id("dep"),
        registration_id=registration_id,
        deployment_id=deployment_id,
        name=name,
        status=status,
        created_at=now,
        updated_at=now,
    )
    DeploymentRepository(session).add(row)
    AuditRepository(session).record(
        actor, "lti.deployment.add", row.id, registration_id=registration_id, deployment_id=deployment_id, status=status
    )
    return Deployment.from_row(row)


def ensure_registration(db: Database, *, issuer: str, client_id: str, **kwargs: Any) -> Registration:
    """Add the registration unless it exists (idempotent; used to auto-register the dev sandbox)."""
    found = find_registration(db, issuer, client_id)
    if found is not None:
        return found
    try:
        with db.transaction() as s:
            return add_registration(s, issuer=issuer, client_id=client_id, **kwargs)
    except (RegistrationExists, IntegrityError):
        # Another worker added it between our read and our write.
        again = find_registration(db, issuer, client_id)
        assert again is not None
        return again


def find_registration(db: Database, issuer: str, client_id: str) -> Registration | None:
    with db.transaction() as s:
        row = RegistrationRepository(s).by_issuer_and_client(issuer, client_id)
        return Registration.from_row(row) if row is not None else None


def registrations_for_issuer(session: Session, issuer: str) -> list[Registration]:
    return [Registration.from_row(r) for r in RegistrationRepository(session).by_issuer(issuer)]


def get_registration(session: Session, registration_id: str) -> Registration | None:
    row = RegistrationRepository(session).get(registration_id)
    return Registration.from_row(row) if row is not None else None


def find_deployment(session: Session, registration_id: str, deployment_id: str) -> Deployment | None:
    row = DeploymentRepository(session).find(registration_id, deployment_id)
    return Deployment.from_row(row) if row is not None else None


_TABLES = ("lti_registrations", "lti_deployments")


class RegistrationDirectory:
    """Registrations and deployments as logins and launches read them, cached (:mod:`gateway.store.cache`).

    A registration disabled, a deployment approved or disabled through this process takes effect on its next
    request; through another process (replica, CLI), within ``ttl_seconds``. Lookups run in the caller's session.
    """

    def __init__(self, db: Database, ttl_seconds: float) -> None:
        self._by_issuer: ReadCache[str, tuple[Registration, ...]] = ReadCache(db, _TABLES, ttl_seconds=ttl_seconds)
        self._by_id: ReadCache[str, Registration] = ReadCache(db, _TABLES, ttl_seconds=ttl_seconds)
        self._deployments: ReadCache[tuple[str, str], Deployment] = ReadCache(db, _TABLES, ttl_seconds=ttl_seconds)

    def for_issuer(self, session: Session, issuer: str) -> list[Registration]:
        found = self._by_issuer.get(issuer, lambda: tuple(registrations_for_issuer(session, issuer)) or None)
        return list(found or ())

    def get(self, session: Session, registration_id: str) -> Registration | None:
        return self._by_id.get(registration_id, lambda: get_registration(session, registration_id))

    def deployment(self, session: Session, registration_id: str, deployment_id: str) -> Deployment | None:
        return self._deployments.get(
            (registration_id, deployment_id), lambda: find_deployment(session, registration_id, deployment_id)
        )
