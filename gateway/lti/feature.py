"""The LTI feature: launches, Deep Linking, registrations; its routes, commands and purge job."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar

from flask import Blueprint

import gateway.lti.admin_views as admin_views
import gateway.lti.cli as cli
import gateway.lti.registration_views as registration_views
import gateway.lti.views as views
from gateway.core import Core
from gateway.feature import SettingCheck
from gateway.handoff import HandoffService
from gateway.keys import KeyRing
from gateway.lti.config import DrConfig, LtiConfig
from gateway.lti.launch import LaunchStep
from gateway.lti.management import OptionChecks
from gateway.lti.service import LtiServices, build_lti
from gateway.lti.tool_config import ToolProfile
from gateway.runtime import PeriodicJob
from gateway.settings import Settings
from gateway.store.models import lti as lti_models

LOGIN_STATES_PURGE_SECONDS = 600.0


@dataclass(frozen=True)
class LtiFeature:
    name: ClassVar[str] = "lti"
    models: ClassVar[tuple[ModuleType, ...]] = (lti_models,)

    services: LtiServices

    @classmethod
    def build(cls, core: Core, *, handoff: HandoffService, keyring: KeyRing,
              launch_steps: Sequence[LaunchStep], option_checks: OptionChecks) -> LtiFeature:
        """``launch_steps`` run inside every launch's transaction, in order; ``option_checks`` check the
        registration options other features define."""
        return cls(build_lti(core.settings, db=core.db, cipher=core.cipher, http=core.http, metrics=core.metrics,
                             handoff=handoff, keyring=keyring, launch_steps=launch_steps, option_checks=option_checks))

    @classmethod
    def setting_checks(cls, settings: Settings) -> Sequence[SettingCheck]:
        return (
            lambda: LtiConfig.from_settings(settings),
            lambda: ToolProfile.from_settings(settings, LtiConfig.from_settings(settings)),
            lambda: DrConfig.from_settings(settings),
        )

    @classmethod
    def blueprints(cls) -> Sequence[Blueprint]:
        return [views.bp, views.api_bp, admin_views.bp, registration_views.bp]

    @classmethod
    def register_commands(cls, commands: Any) -> None:
        cli.register(commands, cls)

    def jobs(self) -> Sequence[PeriodicJob]:
        def purge_login_states() -> None:
            self.services.states.purge_expired()

        return [PeriodicJob("lti-login-states-purge", LOGIN_STATES_PURGE_SECONDS, purge_login_states)]
