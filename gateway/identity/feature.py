"""The identity feature: who each LTI launch user is in Clever; its routes, commands and purge job.

Built in two steps because the Clever login and this feature know each other: the link flow comes first, so
the Clever feature can be given its hand-back (:meth:`CleverLinkFlow.complete`, by :data:`LINK_ORIGIN`);
the rest follows once the Clever login exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar

from flask import Blueprint

import gateway.identity.api as api
import gateway.identity.cli as cli
import gateway.identity.views as views
from gateway.clever import CleverServices, LookupDigest
from gateway.core import Core
from gateway.feature import SettingCheck
from gateway.handoff import HandoffService
from gateway.identity.admin import IdentityAdmin
from gateway.identity.clever_link import LINK_ORIGIN, CleverLinkFlow
from gateway.identity.launches import LaunchIdentity
from gateway.identity.metrics import IdentityMetrics
from gateway.identity.rules import registration_option_checks
from gateway.identity.service import IdentityServices
from gateway.runtime import PeriodicJob
from gateway.settings import Settings
from gateway.store.models import identity as identity_models

PENDING_LINKS_PURGE_SECONDS = 600.0

__all__ = ["LINK_ORIGIN", "IdentityFeature"]


@dataclass(frozen=True)
class IdentityFeature:
    name: ClassVar[str] = "identity"
    models: ClassVar[tuple[ModuleType, ...]] = (identity_models,)

    services: IdentityServices

    @staticmethod
    def link_flow(core: Core, *, handoff: HandoffService) -> CleverLinkFlow:
        """The first step: the flow whose ``complete`` the Clever feature hands logins of ``LINK_ORIGIN`` back to."""
        metrics = IdentityMetrics(core.metrics.registry)
        return CleverLinkFlow(core.db, core.cipher, handoff, public_base_url=core.settings.public_base_url,
                              metrics=metrics)

    @staticmethod
    def option_checks() -> dict[str, Any]:
        """Checks of the registration options that hold the matching rules (given to LTI registration management)."""
        return registration_option_checks()

    @classmethod
    def build(cls, core: Core, *, link_flow: CleverLinkFlow, clever: CleverServices) -> IdentityFeature:
        launches = LaunchIdentity(LookupDigest(core.settings.secret_key), link_flow.metrics, link_flow,
                                  clever_available=clever.config.configured)
        return cls(IdentityServices(core.db, launches, link_flow, clever.login, IdentityAdmin(), link_flow.metrics))

    def launch_step(self) -> LaunchIdentity:
        """The LTI launch step that resolves each launch user's Clever identity."""
        return self.services.launches

    @classmethod
    def setting_checks(cls, settings: Settings) -> Sequence[SettingCheck]:
        return ()  # its rules are registration options, checked when a registration is saved

    @classmethod
    def blueprints(cls) -> Sequence[Blueprint]:
        return [views.bp, api.bp]

    @classmethod
    def register_commands(cls, commands: Any) -> None:
        cli.register(commands, cls)

    def jobs(self) -> Sequence[PeriodicJob]:
        def purge() -> None:
            self.services.link_flow.purge_expired()

        return [PeriodicJob("identity.pending_links_purge", PENDING_LINKS_PURGE_SECONDS, purge)]
