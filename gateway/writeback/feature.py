"""The writeback feature: the outbox, its delivery backends (LTI AGS, Clever LMS Connect), the vendor API.

Workers claim the outbox through :meth:`WritebackFeature.work_source`; every launch in a course records the
person as a member (:class:`~gateway.writeback.members.CourseMembership`, an LTI launch step).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar

from flask import Blueprint

from gateway.core import Core
from gateway.keys import KeyRing
from gateway.runtime import PeriodicJob
from gateway.settings import SettingsError
from gateway.store.models import writeback as writeback_models
from gateway.store.models import writeback_assignments as assignment_models
from gateway.writeback import api, cli, views
from gateway.writeback.ags import AgsBackend
from gateway.writeback.ags_token import AgsTokens
from gateway.writeback.backend_metrics import BackendMetrics
from gateway.writeback.backends import DeliveryBackend
from gateway.writeback.clever_lms import CleverLmsBackend, writeback_client
from gateway.writeback.housekeeping import writeback_jobs
from gateway.writeback.members import CourseMembership
from gateway.writeback.outbox import build_outbox
from gateway.writeback.service import WritebackService, WritebackServices
from gateway.writeback.source import OutboxSource

# A Clever district's access token by district id (the Clever feature's token store).
CleverTokenFor = Callable[[str], str | None]


def build_delivery_backends(core: Core, keyring: KeyRing, clever_token_for: CleverTokenFor
                            ) -> dict[str, DeliveryBackend]:
    settings = core.settings
    if settings.writeback_ags_timeout_seconds <= 0:
        raise SettingsError("GATEWAY_WRITEBACK_AGS_TIMEOUT_SECONDS", "must be positive")
    if settings.writeback_assignment_wait_seconds <= 0:
        raise SettingsError("GATEWAY_WRITEBACK_ASSIGNMENT_WAIT_SECONDS", "must be positive")
    metrics = BackendMetrics(core.metrics.registry)
    tokens = AgsTokens(core.http, keyring, timeout=settings.writeback_ags_timeout_seconds,
                       on_fetch=lambda outcome: metrics.token_requests.labels(outcome=outcome).inc())
    wait = settings.writeback_assignment_wait_seconds
    return {
        "ags": AgsBackend(core.db, core.http, tokens, metrics, timeout=settings.writeback_ags_timeout_seconds,
                          wait_seconds=wait),
        "clever": CleverLmsBackend(core.db, writeback_client(settings, core.http), clever_token_for, metrics,
                                   wait_seconds=wait),
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
    def build(cls, core: Core, *, keyring: KeyRing, clever_token_for: CleverTokenFor) -> WritebackFeature:
        outbox = build_outbox(core.db, core.cipher, core.settings, core.metrics.registry)
        backends = build_delivery_backends(core, keyring, clever_token_for)
        return cls(WritebackServices(core.db, outbox, backends, WritebackService(outbox)), core)

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
