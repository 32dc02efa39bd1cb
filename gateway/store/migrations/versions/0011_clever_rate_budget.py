"""Clever: one rate budget per bearer token, shared by every process of the deployment.

* ``clever_rate_budgets``: a row per token digest with its fixed window (``window_start``, ``used``) and the
  instant Clever's last 429 (or ``X-RateLimit-Remaining: 0``) blocks the token until (``blocked_until``).

Revision ID: 0011_clever_rate_budget
Revises: 0010_outbox_claim_indexes
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_clever_rate_budget"
down_revision = "0010_outbox_claim_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clever_rate_budgets",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("window_start", sa.Float(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("blocked_until", sa.Float(), nullable=False),
    )
    op.create_index("ix_clever_rate_budgets_blocked_until", "clever_rate_budgets", ["blocked_until"])


def downgrade() -> None:
    op.drop_index("ix_clever_rate_budgets_blocked_until", table_name="clever_rate_budgets")
    op.drop_table("clever_rate_budgets")
