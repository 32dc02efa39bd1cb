"""Clever: login states, redeemed codes, districts and their tokens, the roster kept for matching.

Revision ID: 0003_clever
Revises: 0001_foundation
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.store.models.base import UTCDateTime

revision = "0003_clever"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def _district_fk(table: str) -> sa.Column[str]:
    return sa.Column(
        "district_id",
        sa.String(64),
        sa.ForeignKey("clever_districts.id", ondelete="CASCADE", name=f"fk_{table}_district_id_clever_districts"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "clever_login_states",
        sa.Column("state_hash", sa.String(64), primary_key=True),
        sa.Column("binding_hash", sa.String(64), nullable=False),
        sa.Column("district_id", sa.String(64), nullable=True),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_clever_login_states_expires_at", "clever_login_states", ["expires_at"])
    op.create_table(
        "clever_oauth_codes",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("launch_id", sa.String(40), nullable=True),
        sa.Column("redirect_encrypted", sa.Text(), nullable=True),
        sa.Column("error_code", sa.String(60), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_clever_oauth_codes_expires_at", "clever_oauth_codes", ["expires_at"])
    op.create_table(
        "clever_districts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(300), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("token_encrypted", sa.Text(), nullable=True),
        sa.Column("token_id", sa.String(64), nullable=True),
        sa.Column("lms_state", sa.String(40), nullable=True),
        sa.Column("lms_type", sa.String(40), nullable=True),
        sa.Column("connected_at", UTCDateTime(), nullable=True),
        sa.Column("disconnected_at", UTCDateTime(), nullable=True),
        sa.Column("last_event_id", sa.String(64), nullable=True),
        sa.Column("full_synced_at", UTCDateTime(), nullable=True),
        sa.Column("synced_at", UTCDateTime(), nullable=True),
        sa.Column("sync_status", sa.String(20), nullable=False),
        sa.Column("sync_requested_at", UTCDateTime(), nullable=True),
        sa.Column("sync_requested_full", sa.Boolean(), nullable=False),
        sa.Column("sync_progress", sa.JSON(), nullable=True),
        sa.Column("last_sync", sa.JSON(), nullable=True),
        sa.Column("sync_run_id", sa.String(40), nullable=True),
        sa.Column("sync_lease_until", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_clever_districts_status", "clever_districts", ["status"])
    op.create_table(
        "clever_schools",
        sa.Column("id", sa.String(64), primary_key=True),
        _district_fk("clever_schools"),
        sa.Column("name", sa.String(300), nullable=True),
        sa.Column("archived_at", UTCDateTime(), nullable=True),
        sa.Column("seen_run_id", sa.String(40), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_clever_schools_district_id", "clever_schools", ["district_id"])
    op.create_table(
        "clever_roster_users",
        sa.Column("id", sa.String(64), primary_key=True),
        _district_fk("clever_roster_users"),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("school_ids", sa.JSON(), nullable=False),
        sa.Column("profile_encrypted", sa.Text(), nullable=False),
        sa.Column("email_digest", sa.String(64), nullable=True),
        sa.Column("lms_synced", sa.Boolean(), nullable=True),
        sa.Column("archived_at", UTCDateTime(), nullable=True),
        sa.Column("seen_run_id", sa.String(40), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_clever_roster_users_district_id", "clever_roster_users", ["district_id"])
    op.create_index("ix_clever_roster_users_district_email", "clever_roster_users", ["district_id", "email_digest"])
    op.create_table(
        "clever_roster_sis_ids",
        sa.Column(
            "user_id",
            sa.String(64),
            sa.ForeignKey("clever_roster_users.id", ondelete="CASCADE",
                          name="fk_clever_roster_sis_ids_user_id_clever_roster_users"),
            primary_key=True,
        ),
        sa.Column("role", sa.String(20), primary_key=True),
        sa.Column("district_id", sa.String(64), nullable=False),
        sa.Column("sis_id", sa.String(200), nullable=False),
    )
    op.create_index("ix_clever_roster_sis_ids_district_sis", "clever_roster_sis_ids", ["district_id", "sis_id"])
    op.create_table(
        "clever_sections",
        sa.Column("id", sa.String(64), primary_key=True),
        _district_fk("clever_sections"),
        sa.Column("school_id", sa.String(64), nullable=True),
        sa.Column("name", sa.String(300), nullable=True),
        sa.Column("subject", sa.String(60), nullable=True),
        sa.Column("grade", sa.String(40), nullable=True),
        sa.Column("lms_synced", sa.Boolean(), nullable=True),
        sa.Column("archived_at", UTCDateTime(), nullable=True),
        sa.Column("seen_run_id", sa.String(40), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_clever_sections_district_id", "clever_sections", ["district_id"])
    op.create_table(
        "clever_section_members",
        sa.Column(
            "section_id",
            sa.String(64),
            sa.ForeignKey("clever_sections.id", ondelete="CASCADE",
                          name="fk_clever_section_members_section_id_clever_sections"),
            primary_key=True,
        ),
        sa.Column("user_id", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(20), primary_key=True),
    )
    op.create_index("ix_clever_section_members_user_id", "clever_section_members", ["user_id"])


def downgrade() -> None:
    op.drop_table("clever_section_members")
    op.drop_table("clever_sections")
    op.drop_table("clever_roster_sis_ids")
    op.drop_table("clever_roster_users")
    op.drop_table("clever_schools")
    op.drop_table("clever_districts")
    op.drop_table("clever_oauth_codes")
    op.drop_table("clever_login_states")
