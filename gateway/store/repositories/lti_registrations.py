"""LTI platform registrations and their deployments."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.store.models.lti import LtiDeploymentRow, LtiRegistrationRow


class RegistrationRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, row: LtiRegistrationRow) -> None:
        self._s.add(row)
        self._s.flush()

    def get(self, registration_id: str) -> LtiRegistrationRow | None:
        return self._s.get(LtiRegistrationRow, registration_id)

    def by_issuer(self, issuer: str) -> Sequence[LtiRegistrationRow]:
        return self._s.scalars(
            select(LtiRegistrationRow).where(LtiRegistrationRow.issuer == issuer).order_by(LtiRegistrationRow.id)
        ).all()

    def by_issuer_and_client(self, issuer: str, client_id: str) -> LtiRegistrationRow | None:
        return self._s.scalars(
            select(LtiRegistrationRow).where(
                LtiRegistrationRow.issuer == issuer, LtiRegistrationRow.client_id == client_id
            )
        ).first()

    def list(self) -> Sequence[LtiRegistrationRow]:
        return self._s.scalars(select(LtiRegistrationRow).order_by(LtiRegistrationRow.created_at)).all()


class DeploymentRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, row: LtiDeploymentRow) -> None:
        self._s.add(row)
        self._s.flush()

    def get(self, deployment_ref: str) -> LtiDeploymentRow | None:
        return self._s.get(LtiDeploymentRow, deployment_ref)

    def find(self, registration_id: str, deployment_id: str) -> LtiDeploymentRow | None:
        return self._s.scalars(
            select(LtiDeploymentRow).where(
                LtiDeploymentRow.registration_id == registration_id,
                LtiDeploymentRow.deployment_id == deployment_id,
            )
        ).first()

    def for_registration(self, registration_id: str) -> Sequence[LtiDeploymentRow]:
        return self._s.scalars(
            select(LtiDeploymentRow)
            .where(LtiDeploymentRow.registration_id == registration_id)
            .order_by(LtiDeploymentRow.created_at)
        ).all()
