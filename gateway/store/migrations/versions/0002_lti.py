"""LTI 1.3: registrations, deployments, login states, identities, contexts, resource links, deep-link requests.

Revision ID: 0002_lti
Revises: 0001_foundation
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.store.models.base import UTCDateTime

revision = "0002_lti"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

URL = 2000


def _fk(table: str, column: str, ref_table: str, ondelete: str | None = None) -> sa.ForeignKey:
    return sa.ForeignKey(f"{ref_table}.id", name=f"fk_{table}_{column}_{ref_table}", ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "lti_registrations",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("issuer", sa.String(255), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("lms", sa.String(30), nullable=False),
        sa.Column("auth_login_url", sa.String(URL), nullable=False),
        sa.Column("auth_token_url", sa.String(URL), nullable=False),
        sa.Column("auth_audience", sa.String(URL), nullable=True),
        sa.Column("jwks_url", sa.String(URL), nullable=False),
        sa.Column("auto_activate_deployments", sa.Boolean(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("issuer", "client_id", name="uq_lti_registrations_issuer_client_id"),
    )
    op.create_table(
        "lti_deployments",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("registration_id", sa.String(40), _fk("lti_deployments", "registration_id", "lti_registrations"),
                  nullable=False),
        sa.Column("deployment_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("clever_district_id", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint(
            "registration_id", "deployment_id", name="uq_lti_deployments_registration_id_deployment_id"
        ),
    )
    op.create_index("ix_lti_deployments_registration_id", "lti_deployments", ["registration_id"])
    op.create_table(
        "lti_login_states",
        sa.Column("state_hash", sa.String(64), primary_key=True),
        sa.Column("nonce_hash", sa.String(64), nullable=False),
        sa.Column(
            "registration_id",
            sa.String(40),
            _fk("lti_login_states", "registration_id", "lti_registrations", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("deployment_hint", sa.String(255), nullable=True),
        sa.Column("target_link_uri", sa.String(URL), nullable=False),
        sa.Column("login_hint", sa.Text(), nullable=False),
        sa.Column("message_hint", sa.Text(), nullable=True),
        sa.Column("storage_target", sa.String(100), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("nonce_hash", name="uq_lti_login_states_nonce_hash"),
    )
    op.create_index("ix_lti_login_states_registration_id", "lti_login_states", ["registration_id"])
    op.create_index("ix_lti_login_states_expires_at", "lti_login_states", ["expires_at"])
    op.create_table(
        "lti_identities",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("user_id", sa.String(40), _fk("lti_identities", "user_id", "users"), nullable=False),
        sa.Column("registration_id", sa.String(40), _fk("lti_identities", "registration_id", "lti_registrations"),
                  nullable=False),
        sa.Column("sub", sa.String(255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_launch_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("registration_id", "sub", name="uq_lti_identities_registration_id_sub"),
    )
    op.create_index("ix_lti_identities_user_id", "lti_identities", ["user_id"])
    op.create_table(
        "lti_contexts",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("registration_id", sa.String(40), _fk("lti_contexts", "registration_id", "lti_registrations"),
                  nullable=False),
        sa.Column("deployment_ref", sa.String(40), _fk("lti_contexts", "deployment_ref", "lti_deployments"),
                  nullable=False),
        sa.Column("context_id", sa.String(255), nullable=False),
        sa.Column("title", sa.String(500), nullable=True),
        sa.Column("label", sa.String(255), nullable=True),
        sa.Column("types", sa.JSON(), nullable=False),
        sa.Column("ags_lineitems_url", sa.String(URL), nullable=True),
        sa.Column("ags_scopes", sa.JSON(), nullable=False),
        sa.Column("nrps_url", sa.String(URL), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("registration_id", "context_id", name="uq_lti_contexts_registration_id_context_id"),
    )
    op.create_index("ix_lti_contexts_deployment_ref", "lti_contexts", ["deployment_ref"])
    op.create_table(
        "lti_resource_links",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("context_ref", sa.String(40), _fk("lti_resource_links", "context_ref", "lti_contexts"),
                  nullable=False),
        sa.Column("resource_link_id", sa.String(255), nullable=False),
        sa.Column("title", sa.String(500), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("ags_lineitem_url", sa.String(URL), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint(
            "context_ref", "resource_link_id", name="uq_lti_resource_links_context_ref_resource_link_id"
        ),
    )
    op.create_table(
        "lti_deep_link_requests",
        sa.Column(
            "launch_id",
            sa.String(40),
            _fk("lti_deep_link_requests", "launch_id", "launches", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "registration_id",
            sa.String(40),
            _fk("lti_deep_link_requests", "registration_id", "lti_registrations"),
            nullable=False,
        ),
        sa.Column("deployment_id", sa.String(255), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("responded_at", UTCDateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("lti_deep_link_requests")
    op.drop_table("lti_resource_links")
    op.drop_table("lti_contexts")
    op.drop_table("lti_identities")
    op.drop_table("lti_login_states")
    op.drop_table("lti_deployments")
    op.drop_table("lti_registrations")
