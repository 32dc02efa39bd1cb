"""Clever: login states, redeemed codes, districts (with their encrypted tokens) and the roster kept for matching.

Least data: the roster keeps what matching and the roster API need (ids, roles, SIS ids, schools, section
membership); names and email sit encrypted in ``profile_encrypted``, and email is findable only through a keyed
digest (``email_digest``). SIS ids stay plain and indexed per district: LTI launches carry them for matching.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models.base import Base, utcnow


class CleverLoginStateRow(Base):
    """A ``state`` we sent to Clever's authorize URL, bound to the browser that asked for it (by cookie)."""

    __tablename__ = "clever_login_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    binding_hash: Mapped[str] = mapped_column(String(64))
    district_id: Mapped[str | None] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(20))  # app (Log in with Clever) | bounce (re-sent a Clever login)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    used_at: Mapped[dt.datetime | None]


class CleverOAuthCodeRow(Base):
    """A Clever authorization code the callback took (hash only), so it never reaches Clever twice."""

    __tablename__ = "clever_oauth_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))  # pending | done | failed
    # The state the code arrived with (hash; None for a Clever-initiated login): a replay must bring the same one.
    state_hash: Mapped[str | None] = mapped_column(String(64))
    launch_id: Mapped[str | None] = mapped_column(String(40))
    # The hand-off URL (it carries a one-time code), encrypted; shown again on a refresh until redeemed.
    redirect_encrypted: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class CleverDistrictRow(Base):
    """A district that connected the app (Secure Sync), its token, and the state of its roster sync."""

    __tablename__ = "clever_districts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), index=True)  # connected | disconnected
    token_encrypted: Mapped[str | None] = mapped_column(Text)
    token_id: Mapped[str | None] = mapped_column(String(64))
    lms_state: Mapped[str | None] = mapped_column(String(40))
    lms_type: Mapped[str | None] = mapped_column(String(40))
    connected_at: Mapped[dt.datetime | None]
    disconnected_at: Mapped[dt.datetime | None]
    last_event_id: Mapped[str | None] = mapped_column(String(64))
    full_synced_at: Mapped[dt.datetime | None]
    synced_at: Mapped[dt.datetime | None]
    sync_status: Mapped[str] = mapped_column(String(20), default="never")  # never|queued|running|succeeded|failed
    sync_requested_at: Mapped[dt.datetime | None]
    sync_requested_full: Mapped[bool] = mapped_column(Boolean, default=False)
    sync_progress: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    last_sync: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    sync_run_id: Mapped[str | None] = mapped_column(String(40))
    # Consecutive failed syncs (0 after a success) and when the worker may try again on its own.
    sync_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sync_retry_at: Mapped[dt.datetime | None]
    # Why the last full sync could not note Clever's newest event (an error code); while set, syncs are full.
    events_unavailable: Mapped[str | None] = mapped_column(String(60))
    sync_lease_until: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CleverSchoolRow(Base):
    __tablename__ = "clever_schools"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    district_id: Mapped[str] = mapped_column(ForeignKey("clever_districts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(300))
    archived_at: Mapped[dt.datetime | None]
    seen_run_id: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CleverRosterUserRow(Base):
    """A person in a district's roster. Name and email are in ``profile_encrypted`` (JSON, AES-GCM)."""

    __tablename__ = "clever_roster_users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    district_id: Mapped[str] = mapped_column(ForeignKey("clever_districts.id", ondelete="CASCADE"), index=True)
    roles: Mapped[list[str]] = mapped_column(JSON)
    school_ids: Mapped[list[str]] = mapped_column(JSON)
    profile_encrypted: Mapped[str] = mapped_column(Text)
    email_digest: Mapped[str | None] = mapped_column(String(64))
    lms_synced: Mapped[bool | None] = mapped_column(Boolean)
    archived_at: Mapped[dt.datetime | None]
    seen_run_id: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_clever_roster_users_district_email", "district_id", "email_digest"),)


class CleverRosterSisIdRow(Base):
    """One SIS id per (user, role): matching looks people up by SIS id within a district."""

    __tablename__ = "clever_roster_sis_ids"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("clever_roster_users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    district_id: Mapped[str] = mapped_column(String(64))
    sis_id: Mapped[str] = mapped_column(String(200))

    __table_args__ = (Index("ix_clever_roster_sis_ids_district_sis", "district_id", "sis_id"),)


class CleverSectionRow(Base):
    __tablename__ = "clever_sections"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    district_id: Mapped[str] = mapped_column(ForeignKey("clever_districts.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(300))
    subject: Mapped[str | None] = mapped_column(String(60))
    grade: Mapped[str | None] = mapped_column(String(40))
    lms_synced: Mapped[bool | None] = mapped_column(Boolean)
    archived_at: Mapped[dt.datetime | None]
    seen_run_id: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CleverSectionMemberRow(Base):
    """Who is in a section, as teacher or student (Clever's ``teachers``/``students`` lists)."""

    __tablename__ = "clever_section_members"

    section_id: Mapped[str] = mapped_column(
        ForeignKey("clever_sections.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class CleverRateBudgetRow(Base):
    """One Clever bearer token's rate budget, shared by every process (sync, writeback, logins, CLI, replicas).

    Keyed by a digest of the token (never the token). ``window_start``/``used``: the fixed one-minute window and the
    calls taken in it; ``blocked_until``: after a 429 (or ``X-RateLimit-Remaining: 0``), no call before this Unix
    time. Times are Unix seconds, as Clever's ``X-RateLimit-Reset`` is.
    """

    __tablename__ = "clever_rate_budgets"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[float] = mapped_column(Float)
    used: Mapped[int] = mapped_column(Integer)
    blocked_until: Mapped[float] = mapped_column(Float, index=True)
