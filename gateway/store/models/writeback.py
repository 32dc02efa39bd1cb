"""Models of writeback: the delivery outbox, periodic-job leases, and idempotency keys.

The outbox is the durable half of "nothing lost": a grade or assignment change is
a row here, written in the same transaction as the state it announces, until a
worker has delivered it or an operator has seen it fail.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models.base import Base, utcnow

# Delivery states. A row is *unfinished* while queued or delivering; it blocks later rows of its ordering key.
QUEUED: Final = "queued"
DELIVERING: Final = "delivering"
DELIVERED: Final = "delivered"
FAILED: Final = "failed"
DEAD: Final = "dead"
STATES: Final = (QUEUED, DELIVERING, DELIVERED, FAILED, DEAD)
UNFINISHED: Final = (QUEUED, DELIVERING)
REPLAYABLE: Final = (FAILED, DEAD)

# SQLite autoincrements only an INTEGER PRIMARY KEY; PostgreSQL gets a BIGSERIAL.
SEQ_TYPE = BigInteger().with_variant(Integer(), "sqlite")

# The claim's partial indexes (migration 0010). The claim names these states as literals, not parameters,
# so that a planner can prove the indexes usable (see gateway.store.repositories.outbox).
_UNFINISHED_WHERE = text("state IN ('queued', 'delivering')")
_DELIVERING_WHERE = text("state = 'delivering'")


class OutboxRow(Base):
    """One delivery to a remote system. ``seq`` orders rows; ``id`` (``dlv_...``) is what callers see."""

    __tablename__ = "outbox"

    seq: Mapped[int] = mapped_column(SEQ_TYPE, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(50))
    backend: Mapped[str] = mapped_column(String(30))
    ordering_key: Mapped[str] = mapped_column(String(300))
    # Payloads can carry personal data (a grade's comment), so they are always encrypted.
    payload_encrypted: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[dt.datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[dt.datetime | None]
    last_attempt_at: Mapped[dt.datetime | None]
    last_status: Mapped[int | None] = mapped_column(Integer)
    # The gateway's own words about the last attempt ("remote answered 503"); never remote text.
    detail: Mapped[str | None] = mapped_column(String(500))
    # The remote's body and retry headers, encrypted: an echoed submission can hold a comment.
    last_response_encrypted: Mapped[str | None] = mapped_column(Text)
    event_at: Mapped[dt.datetime | None]
    api_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[dt.datetime | None]

    __table_args__ = (
        CheckConstraint(f"state IN {STATES!r}", name="state"),
        Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_outbox_ordering_key_seq", "ordering_key", "seq"),
        Index("ix_outbox_api_key_id_state", "api_key_id", "state"),
        Index("ix_outbox_unfinished_seq", "seq", postgresql_where=_UNFINISHED_WHERE, sqlite_where=_UNFINISHED_WHERE),
        Index("ix_outbox_unfinished_key_seq", "ordering_key", "seq", postgresql_where=_UNFINISHED_WHERE,
              sqlite_where=_UNFINISHED_WHERE),
        Index("ix_outbox_delivering_key", "ordering_key", postgresql_where=_DELIVERING_WHERE,
              sqlite_where=_DELIVERING_WHERE),
        {"sqlite_autoincrement": True},
    )


class JobLeaseRow(Base):
    """Who runs a periodic job now, and when it last started: N workers run each job once per interval."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[dt.datetime | None]
    last_started_at: Mapped[dt.datetime | None]
    last_finished_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))


class IdempotencyKeyRow(Base):
    """A vendor's ``Idempotency-Key`` and the first answer it got, kept for the retention window."""

    __tablename__ = "idempotency_keys"

    api_key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    response_status: Mapped[int] = mapped_column(Integer)
    response_headers: Mapped[dict[str, Any]] = mapped_column(JSON)
    response_body_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
