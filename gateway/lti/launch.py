"""A verified launch becomes a launch record and a one-time hand-off code, in one transaction.

The transaction consumes the login state (and so the nonce: single use, even under concurrency),
finds or makes the user, records the course and placement, stores the launch record and its code,
and for deep linking keeps what the response will need. A refused launch writes nothing, except
that a never-seen deployment of a registration is recorded ``pending`` for an administrator to
approve (unless the registration auto-activates new deployments).

Other features take part through :class:`LaunchStep` s given at construction (identity resolution, course
membership): each runs inside the same transaction, in the order given, so the launch still commits or
refuses as one. This package knows nothing of the features that give the steps.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import gateway.lti.claims as c
import gateway.lti.errors as errors
from gateway.handoff import Handoff, HandoffService
from gateway.lti.courses import upsert_context, upsert_resource_link
from gateway.lti.metrics import LtiMetrics
from gateway.lti.people import LaunchUser, known_user_id, resolve_user
from gateway.lti.record import build_record, deep_linking_settings
from gateway.lti.registrations import Deployment, add_deployment
from gateway.lti.state import LoginStates
from gateway.lti.validator import LaunchPost, LaunchValidator, StorageCheck, VerifiedLaunch
from gateway.ops.logs import log_event
from gateway.store import Database
from gateway.store.models.base import new_id, utcnow
from gateway.store.models.lti import LtiContextRow, LtiDeepLinkRequestRow
from gateway.store.repositories.lti_launches import DeepLinkRequestRepository

log = logging.getLogger("gateway.lti.launch")
ACTOR = "lti-launch"


@dataclass
class LaunchInProgress:
    """One launch inside its transaction, as the steps see it. A step may replace ``user`` and ``clever_match``."""

    session: Session
    launch: VerifiedLaunch
    launch_id: str
    deployment: Deployment
    user: LaunchUser
    context: LtiContextRow | None
    clever_match: dict[str, Any] | None = None
    notes: dict[str, Any] = field(default_factory=dict)  # what a step keeps between its two calls


class LaunchStep(Protocol):
    """A feature's part of the launch transaction."""

    def before_record(self, work: LaunchInProgress) -> None:
        """After the user, course and placement are known, before the launch record is built."""
        ...

    def hand_off(self, work: LaunchInProgress, record: dict[str, Any]) -> Handoff | None:
        """Send the browser elsewhere instead of to the vendor app (the first step to answer wins); or None."""
        ...


class LaunchService:
    def __init__(
        self,
        db: Database,
        validator: LaunchValidator,
        states: LoginStates,
        handoff: HandoffService,
        metrics: LtiMetrics,
        steps: Sequence[LaunchStep] = (),
    ) -> None:
        self._db = db
        self._validator = validator
        self._states = states
        self._handoff = handoff
        self._metrics = metrics
        self._steps = tuple(steps)

    def launch(self, post: LaunchPost) -> Handoff | StorageCheck:
        result = self._validator.validate(post)
        if isinstance(result, StorageCheck):
            return result
        if result.deployment is None and not result.registration.auto_activate_deployments:
            self._record_pending(result)
            raise errors.DeploymentUnknown(
                f"Deployment {result.deployment_id[:80]!r} is new; it was recorded for approval."
            )
        try:
            handoff = self._record(result)
        except IntegrityError:
            # A concurrent first launch made the same user, course or deployment: the rows exist now.
            handoff = self._record(result)
        self._metrics.launches.labels(message_type=result.message_type).inc()
        log_event(log, logging.INFO, "lti launch accepted", launch_id=handoff.launch_id,
                  message_type=result.message_type, registration=result.registration.id)
        return handoff

    def _record_pending(self, launch: VerifiedLaunch) -> None:
        try:
            with self._db.transaction() as s:
                add_deployment(s, launch.registration.id, launch.deployment_id, status="pending", actor=ACTOR)
        except IntegrityError:
            pass  # another launch recorded it a moment ago

    def _record(self, launch: VerifiedLaunch) -> Handoff:
        launch_id = new_id("lch")
        with self._db.transaction() as s:
            if not self._states.consume(s, launch.state):
                raise errors.IdTokenReplayed("Another request used this login a moment ago.")
            deployment: Deployment = launch.deployment or add_deployment(
                s, launch.registration.id, launch.deployment_id, status="active", actor=ACTOR
            )
            user = resolve_user(s, launch.registration.id, launch.sub)
            context = upsert_context(s, launch, deployment.id)
            link = upsert_resource_link(s, launch, context) if context is not None else None
            work = LaunchInProgress(s, launch, launch_id, deployment, user, context)
            for step in self._steps:
                step.before_record(work)
            for_user = launch.claim(c.FOR_USER).get("user_id")
            record = build_record(
                launch,
                launch_id=launch_id,
                user=work.user,
                deployment=deployment,
                context=context,
                link=link,
                for_user_id=known_user_id(s, launch.registration.id, str(for_user)) if for_user else None,
                clever_match=work.clever_match,
            )
            handoff = self._detour(work, record) or self._handoff.issue(
                s, "lti", record, user_id=work.user.id, launch_id=launch_id)
            if launch.message_type == c.DEEP_LINKING_REQUEST:
                DeepLinkRequestRepository(s).add(
                    LtiDeepLinkRequestRow(
                        launch_id=launch_id,
                        registration_id=launch.registration.id,
                        deployment_id=launch.deployment_id,
                        settings=deep_linking_settings(launch),
                        created_at=utcnow(),
                    )
                )
            return handoff

    def _detour(self, work: LaunchInProgress, record: dict[str, Any]) -> Handoff | None:
        for step in self._steps:
            handoff = step.hand_off(work, record)
            if handoff is not None:
                return handoff
        return None
