"""A verified launch becomes a launch record and a one-time hand-off code, in one transaction.

The transaction consumes the login state (and so the nonce: single use, even under concurrency),
finds or makes the user, records the course and placement, stores the launch record and its code,
and for deep linking keeps what the response will need. A refused launch writes nothing, except
that a never-seen deployment of a registration is recorded ``pending`` for an administrator to
approve (unless the registration auto-activates new deployments).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from gateway.handoff.service import Handoff, HandoffService
from gateway.lti import claims as c
from gateway.lti import errors
from gateway.lti.courses import upsert_context, upsert_resource_link
from gateway.lti.metrics import LtiMetrics
from gateway.lti.people import known_user_id, resolve_user
from gateway.lti.record import build_record, deep_linking_settings
from gateway.lti.registrations import Deployment, add_deployment
from gateway.lti.state import LoginStates
from gateway.lti.validator import LaunchPost, LaunchValidator, StorageCheck, VerifiedLaunch
from gateway.ops.logs import log_event
from gateway.store import Database
from gateway.store.models.base import new_id, utcnow
from gateway.store.models.lti import LtiDeepLinkRequestRow
from gateway.store.repositories.lti_launches import DeepLinkRequestRepository
from gateway.writeback.members import record_member

if TYPE_CHECKING:
    from gateway.identity.launches import LaunchIdentity

log = logging.getLogger("gateway.lti.launch")
ACTOR = "lti-launch"


class LaunchService:
    def __init__(
        self,
        db: Database,
        validator: LaunchValidator,
        states: LoginStates,
        handoff: HandoffService,
        metrics: LtiMetrics,
    ) -> None:
        self._db = db
        self._validator = validator
        self._states = states
        self._handoff = handoff
        self._metrics = metrics
        # -- identity (issue 6): set by bootstrap; matches the launch user to a Clever identity --
        self.identity: LaunchIdentity | None = None

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
            # -- identity (issue 6): resolve the Clever identity in this transaction --
            match = self.identity.resolve(s, launch, deployment, user) if self.identity else None
            user = match.user if match else user
            context = upsert_context(s, launch, deployment.id)
            link = upsert_resource_link(s, launch, context) if context is not None else None
            # -- writeback (issue 7): who is in the course, so grades are accepted only for its members --
            if context is not None:
                record_member(s, context.id, user.id, launch.claims.get(c.ROLES))
            for_user = launch.claim(c.FOR_USER).get("user_id")
            record = build_record(
                launch,
                launch_id=launch_id,
                user=user,
                deployment=deployment,
                context=context,
                link=link,
                for_user_id=known_user_id(s, launch.registration.id, str(for_user)) if for_user else None,
                clever_match=match.clever_match if match else None,
            )
            # -- identity (issue 6): an unmatched person may first link by logging in with Clever --
            detour = self.identity.detour(s, launch, deployment, match, record, launch_id) if (
                self.identity and match) else None
            handoff = detour or self._handoff.issue(s, "lti", record, user_id=user.id, launch_id=launch_id)
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
