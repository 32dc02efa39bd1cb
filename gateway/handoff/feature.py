"""The hand-off feature: one :class:`HandoffService` for every arrival, its redeem routes and its purge job."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import ClassVar

from flask import Blueprint

import gateway.handoff.views as views
from gateway.core import Core
from gateway.feature import FeatureDefaults, SettingCheck
from gateway.handoff.service import HandoffService
from gateway.runtime import PeriodicJob
from gateway.settings import Settings
from gateway.store.models import core as core_models

PURGE_INTERVAL_SECONDS = 900.0


@dataclass(frozen=True)
class HandoffFeature(FeatureDefaults):
    name: ClassVar[str] = "handoff"
    models: ClassVar[tuple[ModuleType, ...]] = (core_models,)

    services: HandoffService

    @classmethod
    def build(cls, core: Core) -> HandoffFeature:
        return cls(HandoffService(core.db, core.cipher, core.settings))

    @classmethod
    def setting_checks(cls, settings: Settings) -> Sequence[SettingCheck]:
        return ()  # its code lifetime is checked with the core settings (gateway.settings)

    @classmethod
    def blueprints(cls) -> Sequence[Blueprint]:
        return [views.bp]

    def jobs(self) -> Sequence[PeriodicJob]:
        def purge() -> None:
            self.services.purge_expired()

        return [PeriodicJob("handoff.purge-expired-launches", PURGE_INTERVAL_SECONDS, purge)]
