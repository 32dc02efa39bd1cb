"""Models of LTI 1.3: platform registrations and deployments, login state, identities, contexts, links.

Column names follow the spec where a value comes from the platform (``deployment_id``,
``context_id``, ``resource_link_id`` are the LMS's strings); a column that points at
another of our rows ends in ``_ref`` so the two are never confused.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models.base import Base, utcnow

URL = 2000


class LtiRegistrationRow(Base):
    """One platform registration: the tool as the LMS knows it, keyed by (issuer, client id).

    Canvas shares one issuer across every hosted instance, so the issuer alone does not
    name a registration (Canvas: ``https://canvas.instructure.com``).
    """

    __tablename__ = "lti_registrations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    lms: Mapped[str] = mapped_column(String(30), default="other")
    auth_login_url: Mapped[str] = mapped_column(String(URL))
    auth_token_url: Mapped[str] = mapped_column(String(URL))
    # Brightspace publishes a token audience apart from the token URL; None means "the token URL".
    auth_audience: Mapped[str | None] = mapped_column(String(URL))
    jwks_url: Mapped[str] = mapped_column(String(URL))
    auto_activate_deployments: Mapped[bool] = mapped_column(Boolean, default=False)
    # Identity-matching rules, the Clever-id custom parameter name, and other per-LMS switches.
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | disabled
    # The LTI 1.1 shared secret of the tool this registration replaces (1.1 migration claim), encrypted with
    # gateway.crypto bound to this row (:func:`gateway.lti.migration.secret_context`); never shown back.
    lti11_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    # The service scopes the platform granted the tool (dynamic registration's answer, or set by an administrator);
    # None: not known, and the launches' service claims alone say what is offered.
    granted_scopes: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("issuer", "client_id", name="uq_lti_registrations_issuer_client_id"),)


class LtiDeploymentRow(Base):
    """A deployment of a registration (a district, school or course install): the unit an admin approves."""

    __tablename__ = "lti_deployments"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    registration_id: Mapped[str] = mapped_column(ForeignKey("lti_registrations.id"), index=True)
    deployment_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | pending | disabled
    clever_district_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("registration_id", "deployment_id", name="uq_lti_deployments_registration_id_deployment_id"),
    )


class LtiLoginStateRow(Base):
    """OIDC login state kept server-side, so every replica can finish a login another one began.

    Only hashes of ``state`` and ``nonce`` are stored: a database reader cannot replay them.
    The login parameters are kept to rebuild the login in a new window when the frame has no cookie.
    """

    __tablename__ = "lti_login_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce_hash: Mapped[str] = mapped_column(String(64), unique=True)
    registration_id: Mapped[str] = mapped_column(ForeignKey("lti_registrations.id", ondelete="CASCADE"), index=True)
    deployment_hint: Mapped[str | None] = mapped_column(String(255))
    target_link_uri: Mapped[str] = mapped_column(String(URL))
    login_hint: Mapped[str] = mapped_column(Text)
    message_hint: Mapped[str | None] = mapped_column(Text)
    storage_target: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    used_at: Mapped[dt.datetime | None]


class LtiIdentityRow(Base):
    """A platform user (``sub`` within a registration) and the gateway user it is.

    ``lti11_consumer_key`` / ``lti11_user_id``: who this person was under the LTI 1.1 tool the registration
    replaces, from a migration claim whose signature held (never from an unverified one).
    """

    __tablename__ = "lti_identities"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    registration_id: Mapped[str] = mapped_column(ForeignKey("lti_registrations.id"))
    sub: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_launch_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    lti11_consumer_key: Mapped[str | None] = mapped_column(String(255))
    lti11_user_id: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (
        UniqueConstraint("registration_id", "sub", name="uq_lti_identities_registration_id_sub"),
        Index("ix_lti_identities_lti11", "lti11_consumer_key", "lti11_user_id"),
    )


class LtiContextRow(Base):
    """A course (LTI context) and the services the platform granted in it (AGS, NRPS), latest launch wins."""

    __tablename__ = "lti_contexts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    registration_id: Mapped[str] = mapped_column(ForeignKey("lti_registrations.id"))
    deployment_ref: Mapped[str] = mapped_column(ForeignKey("lti_deployments.id"), index=True)
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(500))
    label: Mapped[str | None] = mapped_column(String(255))
    types: Mapped[list[str]] = mapped_column(JSON, default=list)
    ags_lineitems_url: Mapped[str | None] = mapped_column(String(URL))
    ags_scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    nrps_url: Mapped[str | None] = mapped_column(String(URL))
    # The platform's ``rel="differences"`` link of the last full roster read (changes since that read).
    nrps_differences_url: Mapped[str | None] = mapped_column(String(URL))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("registration_id", "context_id", name="uq_lti_contexts_registration_id_context_id"),
    )


class LtiResourceLinkRow(Base):
    """A placement of the tool in a course, with its coupled AGS line item when the platform names one."""

    __tablename__ = "lti_resource_links"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    context_ref: Mapped[str] = mapped_column(ForeignKey("lti_contexts.id"))
    resource_link_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    ags_lineitem_url: Mapped[str | None] = mapped_column(String(URL))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("context_ref", "resource_link_id", name="uq_lti_resource_links_context_ref_resource_link_id"),
    )


class LtiDeepLinkRequestRow(Base):
    """What a deep-linking launch needs to answer the platform, kept out of the vendor-facing record.

    ``settings`` holds the platform's ``deep_link_return_url`` and opaque ``data`` (echoed back).
    """

    __tablename__ = "lti_deep_link_requests"

    launch_id: Mapped[str] = mapped_column(ForeignKey("launches.id", ondelete="CASCADE"), primary_key=True)
    registration_id: Mapped[str] = mapped_column(ForeignKey("lti_registrations.id"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    responded_at: Mapped[dt.datetime | None]
