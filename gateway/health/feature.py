"""The health feature: ``/healthz``, ``/readyz`` and ``/metrics``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar

from flask import Blueprint

from gateway.core import Core
from gateway.health import views
from gateway.health.service import HealthServices
from gateway.runtime import PeriodicJob


@dataclass(frozen=True)
class HealthFeature:
    name: ClassVar[str] = "health"
    models: ClassVar[tuple[ModuleType, ...]] = ()

    services: HealthServices

    @classmethod
    def build(cls, core: Core, *, signing_key_ready: Callable[[], bool]) -> HealthFeature:
        return cls(HealthServices(core, signing_key_ready))

    @classmethod
    def blueprints(cls) -> Sequence[Blueprint]:
        return [views.bp]

    @classmethod
    def register_commands(cls, commands: Any) -> None:
        return None

    def jobs(self) -> Sequence[PeriodicJob]:
        return []
