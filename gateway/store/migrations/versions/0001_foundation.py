"""Foundation: API keys, audit log, tool keys, users, launches, hand-off codes.

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.store.models.base import UTCDateTime

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("target", sa.String(300), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_action", "audit_log", ["action"])
    op.create_table(
        "tool_keys",
        sa.Column("kid", sa.String(100), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("dev", sa.Boolean(), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("activated_at", UTCDateTime(), nullable=True),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("clever_user_id", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("clever_user_id", name="uq_users_clever_user_id"),
    )
    op.create_table(
        "launches",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("user_id", sa.String(40), sa.ForeignKey("users.id", name="fk_launches_user_id_users")),
        sa.Column("record_encrypted", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_launches_user_id", "launches", ["user_id"])
    op.create_index("ix_launches_expires_at", "launches", ["expires_at"])
    op.create_table(
        "handoff_codes",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column(
            "launch_id",
            sa.String(40),
            sa.ForeignKey("launches.id", ondelete="CASCADE", name="fk_handoff_codes_launch_id_launches"),
            nullable=False,
        ),
        sa.Column(
            "api_key_id",
            sa.String(40),
            sa.ForeignKey("api_keys.id", name="fk_handoff_codes_api_key_id_api_keys"),
            nullable=True,
        ),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("redeemed_at", UTCDateTime(), nullable=True),
        sa.Column("redeemed_by", sa.String(40), nullable=True),
    )
    op.create_index("ix_handoff_codes_launch_id", "handoff_codes", ["launch_id"])


def downgrade() -> None:
    op.drop_table("handoff_codes")
    op.drop_table("launches")
    op.drop_table("users")
    op.drop_table("tool_keys")
    op.drop_table("audit_log")
    op.drop_table("api_keys")
