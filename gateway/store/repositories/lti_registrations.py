"""LTI platform registrations and their deployments."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
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

    def page(self, *, status: str | None, after: str | None, limit: int) -> Sequence[LtiRegistrationRow]:
        """Registrations ordered by id, after the cursor ``after`` (an id)."""
        query = select(LtiRegistrationRow).order_by(LtiRegistrationRow.id).limit(limit)
        if status is not None:
            query = query.where(LtiRegistrationRow.status == status)
        if after is not None:
            query = query.where(LtiRegistrationRow.id > after)
        return self._s.scalars(query).all()


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

    def page(
        self, *, registration_id: str | None, status: str | None, after: str | None, limit: int
    ) -> Sequence[LtiDeploymentRow]:
        """Deployments ordered by id, after the cursor ``after`` (an id)."""
        query = select(LtiDeploymentRow).order_by(LtiDeploymentRow.id).limit(limit)
        if registration_id is not None:
            query = query.where(LtiDeploymentRow.registration_id == registration_id)
        if status is not None:
            query = query.where(LtiDeploymentRow.status == status)
        if after is not None:
            query = query.where(LtiDeploymentRow.id > after)
        return self._s.scalars(query).all()

    def status_counts(self, registration_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """``{registration id: {status: count}}`` for the given registrations."""
        counts: dict[str, dict[str, int]] = {rid: {} for rid in registration_ids}
        if not registration_ids:
            return counts
        rows = self._s.execute(
            select(LtiDeploymentRow.registration_id, LtiDeploymentRow.status, func.count())
            .where(LtiDeploymentRow.registration_id.in_(registration_ids))
            .group_by(LtiDeploymentRow.registration_id, LtiDeploymentRow.status)
        ).all()
        for registration_id, status, count in rows:
            counts[registration_id][status] = int(count)
        return counts
