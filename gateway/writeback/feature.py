"""The writeback feature: the outbox, its delivery backends (LTI AGS, Clever LMS Connect), the vendor API.

Workers claim the outbox through :meth:`WritebackFeature.work_source`; every launch in a course records the
person as a member (:class:`~gateway.writeback.members.CourseMembership`, an LTI launch step).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar

from flask import Blueprint

import gateway.writeback.api as api
import gateway.writeback.cli as cli
import gateway.writeback.views as views
from gateway.clever import CleverServices, build_client
from gateway.core import Core
from gateway.feature import SettingCheck
from gateway.lti import AgsClient
from gateway.runtime import PeriodicJob
from gateway.settings import Settings
from gateway.store.models import writeback as writeback_models
from gateway.store.models import writeback_assignments as assignment_models
from gateway.writeback.ags import AgsBackend
from gateway.writeback.backend_metrics import BackendMetrics
from gateway.writeback.backends import DeliveryBackend
from gateway.writeback.clever_lms import CleverLmsBackend
from gateway.writeback.config import WritebackConfig
from gateway.writeback.housekeeping import writeback_jobs
from gateway.writeback.members import CourseMembership
from gateway.writeback.outbox import build_outbox
from gateway.writeback.roster import Roster
from gateway.writeback.service import WritebackService, WritebackServices
from gateway.writeback.source import OutboxSource


def build_delivery_backends(core: Core, ags: AgsClient, clever: CleverServices) -> dict[str, DeliveryBackend]:
    """``ags``: the LTI feature's AGS client (one token cache per process); ``clever``: its checked settings and
    its district tokens."""
    settings = core.settings
    config = WritebackConfig.from_settings(settings)
    metrics = BackendMetrics(core.metrics.registry)
    # The outbox owns retries and waits: this Clever client sends once, with LMS Connect's timeout.
    # It draws from the Clever feature's budget: one per token, shared with the sync and logins in every process.
    lms_client = build_client(settings, core.http, timeout=clever.config.lms_timeout_seconds, max_retries=0,
                              max_rate_limit_wait_seconds=0.0, limiter=clever.budget)
    wait = config.assignment_wait_seconds
    return {
        "ags": AgsBackend(core.db, ags, metrics, wait_seconds=wait),
        "clever": CleverLmsBackend(core.db, lms_client, clever.tokens.token_for, metrics, wait_seconds=wait,
                                   reread_token=clever.tokens.reread_token),
    }


@dataclass(frozen=True)
class WritebackFeature:
    name: ClassVar[str] = "writeback"
    models: ClassVar[tuple[ModuleType, ...]] = (writeback_models, assignment_models)

    services: WritebackServices
    core: Core

    @staticmethod
    def launch_step() -> CourseMembership:
        """The LTI launch step that records who is in a course."""
        return CourseMembership()

    @classmethod
    def build(cls, core: Core, *, ags: AgsClient, clever: CleverServices) -> WritebackFeature:
        outbox = build_outbox(core.db, core.cipher, core.settings, core.metrics.registry)
        backends = build_delivery_backends(core, ags, clever)
        return cls(WritebackServices(core.db, outbox, backends, WritebackService(outbox), Roster(core.db, ags)), core)

    @classmethod
    def setting_checks(cls, settings: Settings) -> Sequence[SettingCheck]:
        return (lambda: WritebackConfig.from_settings(settings),)

    @classmethod
    def blueprints(cls) -> Sequence[Blueprint]:
        return [views.bp, api.bp]

    @classmethod
    def register_commands(cls, commands: Any) -> None:
        cli.register(commands, cls)

    def jobs(self) -> Sequence[PeriodicJob]:
        return writeback_jobs(self.core.db, self.core.settings)

    def work_source(self, owner: str) -> OutboxSource:
        """What one worker (``owner``) claims and delivers: the rows of the backends this process has."""
        writeback = self.services
        return OutboxSource(writeback.db, writeback.outbox, writeback.backends, writeback.outbox.metrics, owner)
