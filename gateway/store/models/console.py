"""Models of the operator console: admin accounts and their server-side sessions (issue 16).

Its actions are written to the one ``audit_log`` (:class:`~gateway.store.models.core.AuditEntryRow`) with the
account as actor (``admin:<name>``); the console adds no audit table of its own.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models.base import Base, utcnow

ROLES = ("admin", "support")  # support: reads every page, changes nothing


class AdminAccountRow(Base):
    """A person who signs in to the console. Only the argon2 hash of the password is kept; the TOTP secret is
    encrypted at rest (context-bound to the account)."""

    __tablename__ = "admin_accounts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    totp_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    # The last TOTP time step accepted: a code is good once (RFC 6238 §5.2), not for its whole window.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[dt.datetime | None]
    disabled_at: Mapped[dt.datetime | None]
    # Consecutive failed sign-ins (wrong password or code) since the last good one or the last lock; at the
    # configured number the account is locked until ``locked_until`` and the count starts again (0015).
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None]


class AdminSessionRow(Base):
    """A signed-in browser. The cookie carries a random token; only its SHA-256 is kept, so a read of this table
    signs no one in. A new row at every sign-in (the session id rotates); deleted at sign-out."""

    __tablename__ = "admin_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the cookie's token
    account_id: Mapped[str] = mapped_column(
        ForeignKey("admin_accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
