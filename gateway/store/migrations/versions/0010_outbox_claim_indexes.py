"""Outbox: partial indexes that keep a claim's cost independent of planner statistics and of the queue's length.

* ``ix_outbox_unfinished_seq``: unfinished rows (queued or delivering) in ``seq`` order, the claim's walk;
  delivered, failed and dead rows (the bulk of the table once it has run a while) are not in it.
* ``ix_outbox_unfinished_key_seq``: an ordering key's unfinished rows, so "is an earlier row of my key
  unfinished?" is one index probe, whatever the key's delivered history.
* ``ix_outbox_delivering_key``: rows in flight by ordering key (a handful), so "is a row of my key being
  delivered?" is one probe.

Additive: the previous release ignores these indexes. Their predicates are the literal states that
``gateway.store.repositories.outbox`` writes in its claim (a planner proves a partial index usable from the
query's literals).

Revision ID: 0010_outbox_claim_indexes
Revises: 0009_merge_heads
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_outbox_claim_indexes"
down_revision = "0009_merge_heads"
branch_labels = None
depends_on = None

UNFINISHED = sa.text("state IN ('queued', 'delivering')")
DELIVERING = sa.text("state = 'delivering'")


def upgrade() -> None:
    op.create_index("ix_outbox_unfinished_seq", "outbox", ["seq"], postgresql_where=UNFINISHED,
                    sqlite_where=UNFINISHED)
    op.create_index("ix_outbox_unfinished_key_seq", "outbox", ["ordering_key", "seq"], postgresql_where=UNFINISHED,
                    sqlite_where=UNFINISHED)
    op.create_index("ix_outbox_delivering_key", "outbox", ["ordering_key"], postgresql_where=DELIVERING,
                    sqlite_where=DELIVERING)


def downgrade() -> None:
    op.drop_index("ix_outbox_delivering_key", "outbox")
    op.drop_index("ix_outbox_unfinished_key_seq", "outbox")
    op.drop_index("ix_outbox_unfinished_seq", "outbox")
