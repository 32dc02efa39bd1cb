"""Models of identity matching: how each LTI identity came to its Clever id, conflicts, and pending Clever logins.

The link itself is not stored here: an LTI identity belongs to a gateway user (``lti_identities.user_id``)
and that user has at most one Clever id (``users.clever_user_id``). These tables keep what the link does
not say: how and when it was made, which identities stay unmatched, what an administrator must decide,
and the launches waiting for the person to log in with Clever.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models.base import Base, utcnow


class IdentityMatchRow(Base):
    """The latest matching outcome of one LTI identity.

    ``status``: ``matched`` (its user has a Clever id), ``unmatched``, ``conflict`` (an administrator must
    decide) or ``unlinked`` (an administrator removed the link; ``blocked_clever_user_id`` is never matched
    automatically again). ``method`` is how the current link was made.
    """

    __tablename__ = "identity_matches"

    lti_identity_id: Mapped[str] = mapped_column(
        ForeignKey("lti_identities.id", ondelete="CASCADE"), primary_key=True
    )
    registration_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), index=True)
    method: Mapped[str | None] = mapped_column(String(20))
    clever_user_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # The deployment of the latest launch and the Clever district it was linked to then.
    deployment_ref: Mapped[str | None] = mapped_column(String(40))
    district_id: Mapped[str | None] = mapped_column(String(64))
    blocked_clever_user_id: Mapped[str | None] = mapped_column(String(64))
    matched_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class IdentityConflictRow(Base):
    """Something only an administrator may decide: no link was made.

    ``kind``: ``ambiguous`` (two or more roster users fit), ``other_district`` (the launch named a Clever user
    of another district), ``linked_elsewhere`` (the Clever id belongs to another LTI identity of the same
    registration) or ``different_users`` (linking would merge two established gateway users).
    One open conflict per (identity, kind): a repeat raises ``count`` and ``last_seen_at``.
    """

    __tablename__ = "identity_conflicts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | resolved
    lti_identity_id: Mapped[str] = mapped_column(ForeignKey("lti_identities.id", ondelete="CASCADE"), index=True)
    registration_id: Mapped[str] = mapped_column(String(40))
    district_id: Mapped[str | None] = mapped_column(String(64))
    method: Mapped[str | None] = mapped_column(String(20))  # the strategy (or flow) that met the conflict
    clever_user_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    count: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[dt.datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolution: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_identity_conflicts_status_id", "status", "id"),)


class IdentityPendingLinkRow(Base):
    """An LTI launch held back while the person logs in with Clever to link their accounts.

    The browser holds a random token (only its hash is here); starting the Clever login binds the pending
    link to that login's browser binding (hash). The launch record waits encrypted, as launches do.
    """

    __tablename__ = "identity_pending_links"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    binding_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    lti_identity_id: Mapped[str] = mapped_column(ForeignKey("lti_identities.id", ondelete="CASCADE"))
    registration_id: Mapped[str] = mapped_column(String(40))
    deployment_ref: Mapped[str] = mapped_column(String(40))
    district_id: Mapped[str] = mapped_column(String(64))
    launch_id: Mapped[str] = mapped_column(String(40))
    # The launch made the gateway user: nothing was handed off for it yet, so linking may re-home the identity.
    fresh_user: Mapped[bool] = mapped_column(Boolean, default=False)
    record_encrypted: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))  # pending | started | linked | skipped | refused
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    finished_at: Mapped[dt.datetime | None]
