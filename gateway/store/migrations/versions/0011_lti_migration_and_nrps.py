"""LTI: the course roster over Names and Roles, and the LTI 1.1 migration claim (issue 13).

* ``lti_context_members.nrps_status`` / ``roster_seen_at``: the member's status in the platform's roster
  (``Active``, ``Inactive``, ``Deleted``) and when a roster read last listed them; null for people known only
  from their launches. A roster member can be graded without having launched.
* ``lti_contexts.nrps_differences_url``: the platform's ``rel="differences"`` link of the last full roster read.
* ``lti_registrations.lti11_secret_encrypted``: the registration's LTI 1.1 shared secret, encrypted at rest,
  which verifies ``oauth_consumer_key_sign`` of the ``lti1p1`` migration claim.
* ``lti_identities.lti11_consumer_key`` / ``lti11_user_id``: the LTI 1.1 identity a verified migration claim
  named, indexed so the identity map can match on it.

Revision ID: 0011_lti_migration_and_nrps
Revises: 0009_merge_heads
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.store.models.base import UTCDateTime

revision = "0011_lti_migration_and_nrps"
down_revision = "0009_merge_heads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lti_context_members") as batch:
        batch.add_column(sa.Column("nrps_status", sa.String(20), nullable=True))
        batch.add_column(sa.Column("roster_seen_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("lti_contexts") as batch:
        batch.add_column(sa.Column("nrps_differences_url", sa.String(2000), nullable=True))
    with op.batch_alter_table("lti_registrations") as batch:
        batch.add_column(sa.Column("lti11_secret_encrypted", sa.Text(), nullable=True))
    with op.batch_alter_table("lti_identities") as batch:
        batch.add_column(sa.Column("lti11_consumer_key", sa.String(255), nullable=True))
        batch.add_column(sa.Column("lti11_user_id", sa.String(255), nullable=True))
        batch.create_index("ix_lti_identities_lti11", ["lti11_consumer_key", "lti11_user_id"])


def downgrade() -> None:
    with op.batch_alter_table("lti_identities") as batch:
        batch.drop_index("ix_lti_identities_lti11")
        batch.drop_column("lti11_user_id")
        batch.drop_column("lti11_consumer_key")
    with op.batch_alter_table("lti_registrations") as batch:
        batch.drop_column("lti11_secret_encrypted")
    with op.batch_alter_table("lti_contexts") as batch:
        batch.drop_column("nrps_differences_url")
    with op.batch_alter_table("lti_context_members") as batch:
        batch.drop_column("roster_seen_at")
        batch.drop_column("nrps_status")
