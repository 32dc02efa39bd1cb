"""The operator console feature: its pages (when ``GATEWAY_CONSOLE_ENABLED``), ``gateway admins`` and its tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar

from flask import Blueprint

import gateway.console.cli as cli
import gateway.console.operations as operations
import gateway.console.pages as pages
import gateway.console.views as views
from gateway.console.accounts import AdminAccounts, Lockout
from gateway.console.config import ConsoleConfig
from gateway.console.service import ConsoleServices
from gateway.core import Core
from gateway.feature import FeatureDefaults, SettingCheck
from gateway.lti import LtiServices
from gateway.settings import Settings
from gateway.store.models import console as console_models

ROUTE_MODULES = (views, operations)  # each adds its routes to pages.bp


@dataclass(frozen=True)
class ConsoleFeature(FeatureDefaults):
    name: ClassVar[str] = "console"
    models: ClassVar[tuple[ModuleType, ...]] = (console_models,)

    services: ConsoleServices

    @classmethod
    def build(cls, core: Core, *, lti: LtiServices) -> ConsoleFeature:
        config = ConsoleConfig.from_settings(core.settings)
        accounts = AdminAccounts(core.db, core.cipher, idle_timeout=config.idle_timeout, max_age=config.max_age,
                                 lockout=Lockout(config.lockout_attempts, config.lockout))
        return cls(ConsoleServices(config, core.db, accounts, lti.metrics.recent_refusals.since))

    @classmethod
    def setting_checks(cls, settings: Settings) -> Sequence[SettingCheck]:
        return (lambda: ConsoleConfig.from_settings(settings),)

    @classmethod
    def blueprints(cls) -> Sequence[Blueprint]:
        # Registers nothing unless the console is enabled (pages.ConsoleBlueprint reads the settings).
        return [pages.bp]

    @classmethod
    def register_commands(cls, commands: Any) -> None:
        cli.register(commands, cls)
