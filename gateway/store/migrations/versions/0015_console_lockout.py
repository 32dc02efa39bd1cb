"""Operator console: per-account lockout after consecutive failed sign-ins.

* ``admin_accounts.failed_sign_ins``: consecutive failed sign-ins (wrong password or code) since the last good one
  or the last lock (defaults to 0, so rows of the previous release read as "no failures").
* ``admin_accounts.locked_until``: while in the future, the account's sign-ins are refused (null: not locked).

Expand-only: the previous release neither reads nor writes either column.

Revision ID: 0015_console_lockout
Revises: 0014_admin_console
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.store.models.base import UTCDateTime

revision = "0015_console_lockout"
down_revision = "0014_admin_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("admin_accounts") as batch:
        batch.add_column(sa.Column("failed_sign_ins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("admin_accounts") as batch:
        batch.drop_column("locked_until")
        batch.drop_column("failed_sign_ins")
