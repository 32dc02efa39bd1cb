"""Models of the service foundation: API keys, audit log, tool keys, users, launches, hand-off codes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models.base import Base, utcnow


class ApiKeyRow(Base):
    """A vendor API key. Only the SHA-256 of the secret part is kept."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


class AuditEntryRow(Base):
    """Who changed what, when. Written in the same transaction as the change."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100), index=True)
    target: Mapped[str] = mapped_column(String(300))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ToolKeyRow(Base):
    """Metadata of a tool signing key; the private key itself is a PEM file or a setting."""

    __tablename__ = "tool_keys"

    kid: Mapped[str] = mapped_column(String(100), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))  # next | active | retired | expired
    dev: Mapped[bool] = mapped_column(Boolean, default=False)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[dt.datetime | None]
    retired_at: Mapped[dt.datetime | None]


class UserRow(Base):
    """A person known to the gateway, however they arrived (LTI launch, Clever login)."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    clever_user_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LaunchRow(Base):
    """A verified arrival (LTI launch or Clever login) waiting for, or already handed to, the vendor app.

    The record is the vendor-facing launch document; it holds personal data as
    shared by the platform, so it is stored encrypted.
    """

    __tablename__ = "launches"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # lti | clever
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    record_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class HandoffCodeRow(Base):
    """A one-time code that the vendor back end redeems for a launch. Only its hash is kept."""

    __tablename__ = "handoff_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    launch_id: Mapped[str] = mapped_column(ForeignKey("launches.id", ondelete="CASCADE"))
    api_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id"))
    expires_at: Mapped[dt.datetime]
    redeemed_at: Mapped[dt.datetime | None]
    redeemed_by: Mapped[str | None] = mapped_column(String(40))

    __table_args__ = (Index("ix_handoff_codes_launch_id", "launch_id"),)
