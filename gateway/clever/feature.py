"""The Clever feature: logins and installs, Secure Sync; its routes, commands and periodic jobs."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar

from flask import Blueprint

import gateway.clever.api as api
import gateway.clever.cli as cli
import gateway.clever.views as views
from gateway.clever.config import CleverConfig
from gateway.clever.errors import CleverApiError
from gateway.clever.login import Handback
from gateway.clever.service import CleverServices, build_clever
from gateway.core import Core
from gateway.feature import SettingCheck
from gateway.handoff import HandoffService
from gateway.ops.logs import log_event
from gateway.runtime import PeriodicJob
from gateway.settings import Settings
from gateway.store.models import clever as clever_models

log = logging.getLogger("gateway.clever")

# Short: it also picks up on-demand syncs; each district syncs at its own interval.
ROSTER_SYNC_CHECK_SECONDS = 30.0
HOUSEKEEPING_SECONDS = 600.0


@dataclass(frozen=True)
class CleverFeature:
    name: ClassVar[str] = "clever"
    models: ClassVar[tuple[ModuleType, ...]] = (clever_models,)

    services: CleverServices
    token_sync_seconds: float

    @classmethod
    def build(cls, core: Core, *, handoff: HandoffService, handbacks: Mapping[str, Handback]) -> CleverFeature:
        """``handbacks``: where logins that other features started finish, by the login's origin."""
        built = build_clever(core.settings, core.db, core.cipher, core.http, handoff, metrics=core.metrics,
                             handbacks=handbacks)
        return cls(built, float(core.settings.clever_token_sync_interval_seconds))

    @classmethod
    def setting_checks(cls, settings: Settings) -> Sequence[SettingCheck]:
        return (lambda: CleverConfig.from_settings(settings),)

    @classmethod
    def blueprints(cls) -> Sequence[Blueprint]:
        return [views.bp, api.bp]

    @classmethod
    def register_commands(cls, commands: Any) -> None:
        cli.register(commands, cls)

    def jobs(self) -> Sequence[PeriodicJob]:
        clever = self.services

        def tokens() -> None:
            if not clever.config.configured:
                return
            try:
                clever.tokens.sync()
            except CleverApiError as e:
                log_event(log, logging.WARNING, "clever token sync failed", error_code=e.code)

        def roster() -> None:
            if clever.config.configured:
                clever.sync.run_due()

        def purge() -> None:
            clever.housekeeping()

        return [
            PeriodicJob("clever.district_tokens", self.token_sync_seconds, tokens),
            PeriodicJob("clever.roster_sync", ROSTER_SYNC_CHECK_SECONDS, roster),
            PeriodicJob("clever.housekeeping", HOUSEKEEPING_SECONDS, purge),
        ]
