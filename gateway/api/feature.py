"""The API's own feature: vendor API keys (``gateway api-keys``) and the routes of ``/api/v1`` no feature owns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar

from flask import Blueprint

import gateway.api.cli as cli
import gateway.api.views as views
from gateway.api.keys import ApiKeyService
from gateway.api.limits import check_rate_limit_settings
from gateway.core import Core
from gateway.feature import FeatureDefaults, SettingCheck
from gateway.settings import Settings
from gateway.store.models import core as core_models


@dataclass(frozen=True)
class ApiFeature(FeatureDefaults):
    name: ClassVar[str] = "api"
    models: ClassVar[tuple[ModuleType, ...]] = (core_models,)

    services: ApiKeyService

    @classmethod
    def build(cls, core: Core) -> ApiFeature:
        return cls(ApiKeyService(core.db, core.settings.cache_seconds))

    @classmethod
    def setting_checks(cls, settings: Settings) -> Sequence[SettingCheck]:
        return (lambda: check_rate_limit_settings(settings),)  # the limits it installs on every feature's routes

    @classmethod
    def blueprints(cls) -> Sequence[Blueprint]:
        return [views.bp, views.reference_bp]

    @classmethod
    def register_commands(cls, commands: Any) -> None:
        cli.register(commands, cls)
