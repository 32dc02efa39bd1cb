"""Merge the feature branches into one history.

LTI, Clever, writeback and identity grew their migrations in parallel off the
foundation; this revision joins them, so there is one head and later changes
have a single, ordered history.

Revision ID: 0009_merge_heads
Revises: 0005_identity, 0006_assignments, 0008_clever_backoff
Create Date: 2026-11-29
"""

from __future__ import annotations

revision = "0009_merge_heads"
down_revision = ("0005_identity", "0006_assignments", "0008_clever_backoff")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
