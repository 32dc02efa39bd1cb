"""LTI 1.1 migration (issue 13, Deliver 4) and the registration's granted scopes.

* ``lti_registrations.lti11_secret_encrypted``: the 1.1 shared secret that signs the ``lti1p1`` migration claim's
  ``oauth_consumer_key_sign``, encrypted at rest.
* ``lti_registrations.granted_scopes``: the service scopes the platform granted the tool (null: not known).
* ``lti_identities.lti11_consumer_key`` / ``lti11_user_id``: the person's LTI 1.1 identity, from a verified claim,
  indexed so a launch (or an administrator) finds the gateway user a 1.1 user already is.

Revision ID: 0013_lti1p1_migration
Revises: 0012_lti_nrps_roster
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_lti1p1_migration"
down_revision = "0012_lti_nrps_roster"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lti_registrations") as batch:
        batch.add_column(sa.Column("lti11_secret_encrypted", sa.Text(), nullable=True))
        batch.add_column(sa.Column("granted_scopes", sa.JSON(), nullable=True))
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
        batch.drop_column("granted_scopes")
        batch.drop_column("lti11_secret_encrypted")
