"""The health feature: ``/healthz``, ``/readyz`` and ``/metrics``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import ClassVar

from flask import Blueprint

import gateway.health.views as views
from gateway.core import Core
from gateway.feature import FeatureDefaults, SettingCheck
from gateway.health.service import HealthServices
from gateway.settings import Settings


@dataclass(frozen=True)
class HealthFeature(FeatureDefaults):
    name: ClassVar[str] = "health"
    models: ClassVar[tuple[ModuleType, ...]] = ()

    services: HealthServices

    @classmethod
    def build(cls, core: Core, *, signing_key_ready: Callable[[], bool]) -> HealthFeature:
        return cls(HealthServices(core, signing_key_ready))

    @classmethod
    def setting_checks(cls, settings: Settings) -> Sequence[SettingCheck]:
        return ()  # reads only what the core checks

    @classmethod
    def blueprints(cls) -> Sequence[Blueprint]:
        return [views.bp]

