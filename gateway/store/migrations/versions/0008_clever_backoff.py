"""Clever: back off failing roster syncs, remember why a full sync has no event cursor, tie codes to their state.

* ``clever_districts.sync_failures`` / ``sync_retry_at``: consecutive failed syncs and when the worker may try
  again (exponential backoff; automatic retries stop at a cap until someone asks for a sync).
* ``clever_districts.events_unavailable``: the error code of the Events call when the last full sync could not
  note Clever's newest event; while set, every sync is a full one.
* ``clever_oauth_codes.state_hash``: the state a code arrived with, so a replay must come with the same one.

Revision ID: 0008_clever_backoff
Revises: 0003_clever
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.store.models.base import UTCDateTime

revision = "0008_clever_backoff"
down_revision = "0003_clever"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clever_districts") as batch:
        batch.add_column(sa.Column("sync_failures", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("sync_retry_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("events_unavailable", sa.String(60), nullable=True))
    with op.batch_alter_table("clever_oauth_codes") as batch:
        batch.add_column(sa.Column("state_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clever_oauth_codes") as batch:
        batch.drop_column("state_hash")
    with op.batch_alter_table("clever_districts") as batch:
        batch.drop_column("events_unavailable")
        batch.drop_column("sync_retry_at")
        batch.drop_column("sync_failures")
