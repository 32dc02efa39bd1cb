"""Fixtures: a gateway (with the simulated LMS where a test launches), an admin API client, the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.store.models.core import AuditEntryRow
from gateway.store.models.lti import LtiDeploymentRow, LtiRegistrationRow
from tests.support.gateway import GatewayUnderTest
from tests.support.lti_sandbox import LtiWorld, lti_world


@pytest.fixture
def world(sqlite_url: str, keys_dir: Path) -> Iterator[LtiWorld]:
    with lti_world(sqlite_url, keys_dir) as made:
        yield made


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
