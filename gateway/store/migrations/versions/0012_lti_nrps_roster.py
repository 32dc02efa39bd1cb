"""LTI: the course roster over Names and Roles (issue 13).

* ``lti_context_members.nrps_status`` / ``roster_seen_at``: the member's status in the platform's roster
  (``Active``, ``Inactive``, ``Deleted``) and when a roster read last listed them; null for people known only
  from their launches. A roster member can be graded without having launched.
* ``lti_contexts.nrps_differences_url``: the platform's ``rel="differences"`` link of the last full roster read.

Revision ID: 0012_lti_nrps_roster
Revises: 0011_clever_rate_budget
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.store.models.base import UTCDateTime

revision = "0012_lti_nrps_roster"
down_revision = "0011_clever_rate_budget"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lti_context_members") as batch:
        batch.add_column(sa.Column("nrps_status", sa.String(20), nullable=True))
        batch.add_column(sa.Column("roster_seen_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("lti_contexts") as batch:
        batch.add_column(sa.Column("nrps_differences_url", sa.String(2000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lti_contexts") as batch:
        batch.drop_column("nrps_differences_url")
    with op.batch_alter_table("lti_context_members") as batch:
        batch.drop_column("roster_seen_at")
        batch.drop_column("nrps_status")
