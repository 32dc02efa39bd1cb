"""Identity: match outcomes of LTI identities, conflicts for administrators, launches waiting for a Clever login.

A merge point: identity needs both the LTI tables (``lti_identities``) and the Clever roster.

Revision ID: 0005_identity
Revises: 0002_lti, 0003_clever
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.store.models.base import UTCDateTime

revision = "0005_identity"
down_revision = ("0002_lti", "0003_clever")
branch_labels = None
depends_on = None


def _identity_fk(table: str, *, primary_key: bool = False) -> sa.Column[str]:
    return sa.Column(
        "lti_identity_id",
        sa.String(40),
        sa.ForeignKey("lti_identities.id", ondelete="CASCADE", name=f"fk_{table}_lti_identity_id_lti_identities"),
        nullable=False,
        primary_key=primary_key,
    )


def upgrade() -> None:
    op.create_table(
        "identity_matches",
        _identity_fk("identity_matches", primary_key=True),
        sa.Column("registration_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("method", sa.String(20), nullable=True),
        sa.Column("clever_user_id", sa.String(64), nullable=True),
        sa.Column("deployment_ref", sa.String(40), nullable=True),
        sa.Column("district_id", sa.String(64), nullable=True),
        sa.Column("blocked_clever_user_id", sa.String(64), nullable=True),
        sa.Column("matched_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_identity_matches_status", "identity_matches", ["status"])
    op.create_index("ix_identity_matches_clever_user_id", "identity_matches", ["clever_user_id"])
    op.create_table(
        "identity_conflicts",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        _identity_fk("identity_conflicts"),
        sa.Column("registration_id", sa.String(40), nullable=False),
        sa.Column("district_id", sa.String(64), nullable=True),
        sa.Column("method", sa.String(20), nullable=True),
        sa.Column("clever_user_ids", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(200), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
    )
    op.create_index("ix_identity_conflicts_lti_identity_id", "identity_conflicts", ["lti_identity_id"])
    op.create_index("ix_identity_conflicts_status_id", "identity_conflicts", ["status", "id"])
    op.create_table(
        "identity_pending_links",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("binding_hash", sa.String(64), nullable=True),
        _identity_fk("identity_pending_links"),
        sa.Column("registration_id", sa.String(40), nullable=False),
        sa.Column("deployment_ref", sa.String(40), nullable=False),
        sa.Column("district_id", sa.String(64), nullable=False),
        sa.Column("launch_id", sa.String(40), nullable=False),
        sa.Column("fresh_user", sa.Boolean(), nullable=False),
        sa.Column("record_encrypted", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_identity_pending_links_token_hash"),
    )
    op.create_index("ix_identity_pending_links_binding_hash", "identity_pending_links", ["binding_hash"])
    op.create_index("ix_identity_pending_links_expires_at", "identity_pending_links", ["expires_at"])


def downgrade() -> None:
    op.drop_table("identity_pending_links")
    op.drop_table("identity_conflicts")
    op.drop_table("identity_matches")
