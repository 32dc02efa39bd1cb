"""Models of assignment and grade writeback: assignments and their remote ids, grade state, course members.

An assignment lives in a *context*: an LTI course the gateway saw in a launch (``ctx_...``) or a Clever
section (``clever:<section id>``). Its ``remote_id`` is what the LMS or Clever made for it (the AGS line
item URL, or the LMS Connect assignment id), written in the same transaction as the delivery outcome
that learned it. ``lti_context_members`` records who launched in which course, so a grade for someone
who is not in the course is refused before anything is queued.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models.base import Base, utcnow

# Remote states of an assignment: the create is queued, it arrived, it was refused for good, it was deleted.
PENDING: Final = "pending"
CREATED: Final = "created"
FAILED: Final = "failed"
DELETED: Final = "deleted"
REMOTE_STATES: Final = (PENDING, CREATED, FAILED, DELETED)


class WritebackAssignmentRow(Base):
    """One vendor assignment in one context, and what the LMS or Clever made for it.

    ``vendor_id`` is unique per context while the assignment lives; a soft delete moves it to
    ``deleted_vendor_id`` so the vendor can create a new assignment with the same id.
    """

    __tablename__ = "writeback_assignments"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    context_id: Mapped[str] = mapped_column(String(100))
    backend: Mapped[str] = mapped_column(String(30))  # ags | clever
    lti_context_ref: Mapped[str | None] = mapped_column(ForeignKey("lti_contexts.id"), index=True)
    resource_link_ref: Mapped[str | None] = mapped_column(ForeignKey("lti_resource_links.id"))
    clever_section_id: Mapped[str | None] = mapped_column(String(64))
    clever_district_id: Mapped[str | None] = mapped_column(String(64))
    vendor_id: Mapped[str | None] = mapped_column(String(255))
    deleted_vendor_id: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    points_possible: Mapped[float] = mapped_column(Float)
    due_at: Mapped[dt.datetime | None]
    tag: Mapped[str | None] = mapped_column(String(255))
    remote_id: Mapped[str | None] = mapped_column(String(2000))
    remote_state: Mapped[str] = mapped_column(String(20), default=PENDING)
    # What the remote said about it (adopted a coupled line item, LMS type, warnings); no personal data.
    remote_detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    create_delivery_id: Mapped[str | None] = mapped_column(String(40))
    last_delivery_id: Mapped[str | None] = mapped_column(String(40))
    api_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[dt.datetime | None]

    __table_args__ = (
        UniqueConstraint("context_id", "vendor_id", name="uq_writeback_assignments_context_id_vendor_id"),
        Index("ix_writeback_assignments_context_id_created_at", "context_id", "created_at"),
    )


class WritebackGradeRow(Base):
    """The newest grade delivered for one student on one assignment; an older one arriving later is skipped.

    The outbox also knows this, but only until delivered rows are purged; this row outlives them.
    ``subject`` is the gateway user id in an LTI context and the Clever user id in a Clever section.
    """

    __tablename__ = "writeback_grades"

    assignment_id: Mapped[str] = mapped_column(
        ForeignKey("writeback_assignments.id", ondelete="CASCADE"), primary_key=True
    )
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_event_at: Mapped[dt.datetime | None]
    last_delivery_id: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LtiContextMemberRow(Base):
    """Someone in an LTI course: who launched there (roles of their latest launch), or whom the roster listed."""

    __tablename__ = "lti_context_members"

    context_ref: Mapped[str] = mapped_column(ForeignKey("lti_contexts.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    learner: Mapped[bool] = mapped_column(Boolean, default=False)
    first_launch_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_launch_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # From the platform's roster (Names and Roles): status there (Active | Inactive | Deleted) and when a roster
    # read last listed the member; null for people known only from their launches.
    nrps_status: Mapped[str | None] = mapped_column(String(20))
    roster_seen_at: Mapped[dt.datetime | None]
