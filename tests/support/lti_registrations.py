"""What a registration or deployment change leaves behind: the audit log and the row counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from gateway.store.models.core import AuditEntryRow
from gateway.store.models.lti import LtiDeploymentRow, LtiRegistrationRow
from tests.support.gateway import GatewayUnderTest


def audit(gateway: GatewayUnderTest, target: str | None = None) -> list[dict[str, Any]]:
    """Audit entries, oldest first."""
    with gateway.services.db.transaction() as s:
        query = select(AuditEntryRow).order_by(AuditEntryRow.id)
        if target is not None:
            query = query.where(AuditEntryRow.target == target)
        return [{"actor": r.actor, "action": r.action, "target": r.target, "details": dict(r.details)}
                for r in s.scalars(query)]


def counts(gateway: GatewayUnderTest) -> dict[str, int]:
    """What a refused change must leave as it was."""
    with gateway.services.db.transaction() as s:
        return {name: s.scalar(select(func.count()).select_from(model)) or 0
                for name, model in (("registrations", LtiRegistrationRow), ("deployments", LtiDeploymentRow),
                                    ("audit", AuditEntryRow))}
