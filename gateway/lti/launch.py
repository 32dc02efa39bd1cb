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
from gateway.crypto import Cipher, DecryptionError
from gateway.handoff import Handoff, HandoffService
from gateway.lti.courses import upsert_placement
from gateway.lti.metrics import LtiMetrics
from gateway.lti.migration import Lti1p1Identity, check_claim, secret_context
from gateway.lti.people import LaunchUser, known_user_id, resolve_user
from gateway.lti.record import build_record, deep_linking_settings
from gateway.lti.registrations import Deployment, add_deployment
from gateway.lti.state import LoginStates
from gateway.lti.validator import LaunchPost, LaunchValidator, StorageCheck, VerifiedLaunch
from gateway.ops.logs import log_event
from gateway.store import Database
from gateway.store.models.base import new_id, utcnow
from gateway.store.models.lti import LtiContextRow, LtiDeepLinkRequestRow, LtiIdentityRow
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
    identity: LtiIdentityRow  # who launched: (registration, sub)
    context: LtiContextRow | None
    clever_match: dict[str, Any] | None = None
    notes: dict[str, Any] = field(default_factory=dict)  # what a step keeps between its two calls


@dataclass(frozen=True)
class _Recorded:
    handoff: Handoff
    message_type: str
    registration_id: str


@dataclass(frozen=True)
class _HeldForApproval:
    deployment_id: str


class LaunchStep(Protocol):
    """A feature's part of the launch transaction."""

    def before_record(self, work: LaunchInProgress) -> None:
        """After the user, course and placement are known, before the launch record is built."""
        ...

    def hand_off(self, work: LaunchInProgress, record: dict[str, Any]) -> Handoff | None:
        """Send the browser elsewhere instead of to the vendor app (the first step to answer wins); or None."""
        ...


# Deployment, user and identity, context, resource link: each a row two first launches may race to insert.
CONCURRENT_FIRST_LAUNCH_TRIES = 5


class LaunchService:
    def __init__(
        self,
        db: Database,
        validator: LaunchValidator,
        states: LoginStates,
        handoff: HandoffService,
        metrics: LtiMetrics,
        cipher: Cipher,
        steps: Sequence[LaunchStep] = (),
    ) -> None:
        self._db = db
        self._validator = validator
        self._states = states
        self._handoff = handoff
        self._metrics = metrics
        self._cipher = cipher
        self._steps = tuple(steps)

    def launch(self, post: LaunchPost) -> Handoff | StorageCheck:
        """Validate and record the launch in one transaction (the reads, the nonce, the record and its code)."""
        outcome = self._launch_past_concurrent_firsts(post)
        if isinstance(outcome, StorageCheck):
            return outcome
        if isinstance(outcome, _HeldForApproval):
            raise errors.DeploymentUnknown(
                f"Deployment {outcome.deployment_id[:80]!r} is new; it was recorded for approval."
            )
        self._metrics.launches.labels(message_type=outcome.message_type).inc()
        log_event(log, logging.INFO, "lti launch accepted", launch_id=outcome.handoff.launch_id,
                  message_type=outcome.message_type, registration=outcome.registration_id)
        return outcome.handoff

    def _launch_past_concurrent_firsts(self, post: LaunchPost) -> _Recorded | StorageCheck | _HeldForApproval:
        """A concurrent first launch (on this replica or another) made the same deployment, user, course or link:
        those rows exist now, so the launch runs again. Each retry means one more shared row now exists, and a
        launch writes only a few, so it ends; the last try's error is the answer (found by the topology test:
        a retry lost a second race, on another row, and answered 500)."""
        for _ in range(CONCURRENT_FIRST_LAUNCH_TRIES - 1):
            try:
                return self._launch(post)
            except IntegrityError:
                continue
        return self._launch(post)

    def _launch(self, post: LaunchPost) -> _Recorded | StorageCheck | _HeldForApproval:
        """The recorded launch; or the storage check to answer; or a new deployment held for approval (recorded
        ``pending`` in this transaction, which commits before the refusal is raised)."""
        with self._db.transaction() as s:
            result = self._validator.validate(s, post)
            if isinstance(result, StorageCheck):
                return result
            if result.deployment is None and not result.registration.auto_activate_deployments:
                self._record_pending(s, result)
                return _HeldForApproval(result.deployment_id)
            return _Recorded(self._record(s, result), result.message_type, result.registration.id)

    @staticmethod
    def _record_pending(session: Session, launch: VerifiedLaunch) -> None:
        try:
            with session.begin_nested():
                add_deployment(session, launch.registration.id, launch.deployment_id, status="pending", actor=ACTOR)
        except IntegrityError:
            pass  # another launch recorded it a moment ago

    def _record(self, s: Session, launch: VerifiedLaunch) -> Handoff:
        launch_id = new_id("lch")
        if not self._states.consume(s, launch.state):
            raise errors.IdTokenReplayed("Another request used this login a moment ago.")
        deployment: Deployment = launch.deployment or add_deployment(
            s, launch.registration.id, launch.deployment_id, status="active", actor=ACTOR
        )
        lti1p1 = self._migration(launch)
        user, identity = resolve_user(s, launch.registration.id, launch.sub, lti1p1)
        context, link = upsert_placement(s, launch, deployment.id)
        work = LaunchInProgress(s, launch, launch_id, deployment, user, identity, context)
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
            lti1p1=lti1p1,
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

    def _migration(self, launch: VerifiedLaunch) -> Lti1p1Identity | None:
        """The launch's LTI 1.1 identity when its migration claim's signature holds; else None, with a warning
        that names the registration and why (never the person nor the consumer key) and a metric."""
        if c.LTI1P1 not in launch.claims:
            return None  # the common case costs nothing: no decryption, no metric
        registration = launch.registration
        secret, unreadable = None, False
        if registration.lti11_secret_encrypted:
            try:
                secret = self._cipher.decrypt(registration.lti11_secret_encrypted, secret_context(registration.id))
            except DecryptionError:
                unreadable = True
        check = check_claim(launch.claims, client_id=registration.client_id, secret=secret,
                            secret_unreadable=unreadable)
        assert check is not None
        self._metrics.migration_claims.labels(outcome=check.outcome).inc()
        if not check.verified:
            log_event(log, logging.WARNING, "lti 1.1 migration claim ignored", reason=check.outcome,
                      registration=registration.id)
        return check.identity

    def _detour(self, work: LaunchInProgress, record: dict[str, Any]) -> Handoff | None:
        for step in self._steps:
            handoff = step.hand_off(work, record)
            if handoff is not None:
                return handoff
        return None
