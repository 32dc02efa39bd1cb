"""The LTI feature's services, built once by :func:`gateway.bootstrap.bootstrap`."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.handoff.service import HandoffService
from gateway.http import HttpClient
from gateway.keys.ring import KeyRing
from gateway.lti.config import DrConfig, LtiConfig
from gateway.lti.deep_linking import DeepLinkingService
from gateway.lti.dynamic_registration import DynamicRegistrationService
from gateway.lti.jwks import PlatformKeys
from gateway.lti.launch import LaunchService
from gateway.lti.login import LoginService
from gateway.lti.metrics import LtiMetrics
from gateway.lti.state import LoginStates
from gateway.lti.tool_config import ToolProfile
from gateway.lti.validator import LaunchValidator
from gateway.ops.metrics import Metrics
from gateway.settings import Settings
from gateway.store import Database


@dataclass
class LtiServices:
    config: LtiConfig
    metrics: LtiMetrics
    states: LoginStates
    keys: PlatformKeys
    login: LoginService
    validator: LaunchValidator
    launches: LaunchService
    deep_linking: DeepLinkingService
    tool: ToolProfile
    registration: DynamicRegistrationService

    def purge_login_states(self) -> None:
        self.states.purge_expired()


def build_lti(
    settings: Settings, *, db: Database, http: HttpClient, metrics: Metrics, handoff: HandoffService, keyring: KeyRing
) -> LtiServices:
    config = LtiConfig.from_settings(settings)
    lti_metrics = LtiMetrics(metrics)
    states = LoginStates(db, config.state_ttl_seconds)
    keys = PlatformKeys(
        http,
        lti_metrics,
        cache_seconds=config.jwks_cache_seconds,
        cooldown_seconds=config.jwks_cooldown_seconds,
        timeout_seconds=config.jwks_timeout_seconds,
    )
    validator = LaunchValidator(db, states, keys, config)
    tool = ToolProfile.from_settings(settings, config)
    return LtiServices(
        config=config,
        metrics=lti_metrics,
        states=states,
        keys=keys,
        login=LoginService(db, states, config),
        validator=validator,
        launches=LaunchService(db, validator, states, handoff, lti_metrics),
        deep_linking=DeepLinkingService(db, handoff, keyring, config),
        tool=tool,
        registration=DynamicRegistrationService(db, http, tool, DrConfig.from_settings(settings), metrics),
    )
