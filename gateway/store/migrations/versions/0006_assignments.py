"""Assignments and grades writeback: assignments with their remote ids, grade state, LTI course members.

A merge point: assignments live in LTI contexts (0002) or Clever sections (0003) and are delivered
through the outbox (0004).

Revision ID: 0006_assignments
Revises: 0002_lti, 0003_clever, 0004_writeback
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.store.models.base import UTCDateTime

revision = "0006_assignments"
down_revision = ("0002_lti", "0003_clever", "0004_writeback")
branch_labels = None
depends_on = None


def _fk(table: str, column: str, ref_table: str, ondelete: str | None = None) -> sa.ForeignKey:
    return sa.ForeignKey(f"{ref_table}.id", name=f"fk_{table}_{column}_{ref_table}", ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "writeback_assignments",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("context_id", sa.String(100), nullable=False),
        sa.Column("backend", sa.String(30), nullable=False),
        sa.Column("lti_context_ref", sa.String(40), _fk("writeback_assignments", "lti_context_ref", "lti_contexts"),
                  nullable=True),
        sa.Column("resource_link_ref", sa.String(40),
                  _fk("writeback_assignments", "resource_link_ref", "lti_resource_links"), nullable=True),
        sa.Column("clever_section_id", sa.String(64), nullable=True),
        sa.Column("clever_district_id", sa.String(64), nullable=True),
        sa.Column("vendor_id", sa.String(255), nullable=True),
        sa.Column("deleted_vendor_id", sa.String(255), nullable=True),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("points_possible", sa.Float(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("tag", sa.String(255), nullable=True),
        sa.Column("remote_id", sa.String(2000), nullable=True),
        sa.Column("remote_state", sa.String(20), nullable=False),
        sa.Column("remote_detail", sa.JSON(), nullable=False),
        sa.Column("create_delivery_id", sa.String(40), nullable=True),
        sa.Column("last_delivery_id", sa.String(40), nullable=True),
        sa.Column("api_key_id", sa.String(40), _fk("writeback_assignments", "api_key_id", "api_keys"), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("context_id", "vendor_id", name="uq_writeback_assignments_context_id_vendor_id"),
    )
    op.create_index("ix_writeback_assignments_lti_context_ref", "writeback_assignments", ["lti_context_ref"])
    op.create_index(
        "ix_writeback_assignments_context_id_created_at", "writeback_assignments", ["context_id", "created_at"]
    )
    op.create_table(
        "writeback_grades",
        sa.Column("assignment_id", sa.String(40),
                  _fk("writeback_grades", "assignment_id", "writeback_assignments", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("subject", sa.String(64), primary_key=True),
        sa.Column("last_event_at", UTCDateTime(), nullable=True),
        sa.Column("last_delivery_id", sa.String(40), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "lti_context_members",
        sa.Column("context_ref", sa.String(40),
                  _fk("lti_context_members", "context_ref", "lti_contexts", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.String(40), _fk("lti_context_members", "user_id", "users", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("learner", sa.Boolean(), nullable=False),
        sa.Column("first_launch_at", UTCDateTime(), nullable=False),
        sa.Column("last_launch_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_lti_context_members_user_id", "lti_context_members", ["user_id"])


def downgrade() -> None:
    op.drop_table("lti_context_members")
    op.drop_table("writeback_grades")
    op.drop_table("writeback_assignments")
