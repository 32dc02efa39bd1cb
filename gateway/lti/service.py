"""The LTI feature's services: what its views, commands and the features that use LTI call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.crypto import Cipher
from gateway.handoff import HandoffService
from gateway.http import HttpClient
from gateway.keys import KeyRing
from gateway.lti.ags import AgsClient
from gateway.lti.ags_token import AgsTokens
from gateway.lti.config import DrConfig, LtiConfig
from gateway.lti.deep_linking import DeepLinkingService
from gateway.lti.dynamic_registration import DynamicRegistrationService
from gateway.lti.jwks import PlatformKeys
from gateway.lti.launch import LaunchService, LaunchStep
from gateway.lti.login import LoginService
from gateway.lti.management import OptionChecks
from gateway.lti.metrics import LtiMetrics
from gateway.lti.registrations import RegistrationDirectory
from gateway.lti.state import LoginStates
from gateway.lti.tool_config import ToolProfile
from gateway.lti.validator import LaunchValidator
from gateway.ops.metrics import Metrics
from gateway.settings import Settings
from gateway.store import Database


@dataclass(frozen=True)
class LtiServices:
    settings: Settings
    db: Database
    cipher: Cipher  # registrations' LTI 1.1 secrets
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
    ags: AgsClient  # Assignment and Grade Services, with its access-token cache
    option_checks: OptionChecks


def build_lti(
    settings: Settings,
    *,
    db: Database,
    cipher: Cipher,
    http: HttpClient,
    metrics: Metrics,
    handoff: HandoffService,
    keyring: KeyRing,
    launch_steps: Sequence[LaunchStep] = (),
    option_checks: OptionChecks | None = None,
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
    directory = RegistrationDirectory(db, settings.cache_seconds)
    validator = LaunchValidator(states, keys, config, directory)
    tool = ToolProfile.from_settings(settings, config)
    tokens = AgsTokens(http, keyring, timeout=config.ags_timeout_seconds,
                       on_fetch=lambda outcome: lti_metrics.ags_token_requests.labels(outcome=outcome).inc())
    return LtiServices(
        settings=settings,
        db=db,
        cipher=cipher,
        config=config,
        metrics=lti_metrics,
        states=states,
        keys=keys,
        login=LoginService(db, states, config, directory),
        validator=validator,
        launches=LaunchService(db, validator, states, handoff, lti_metrics, cipher, launch_steps),
        deep_linking=DeepLinkingService(db, handoff, keyring, config),
        tool=tool,
        registration=DynamicRegistrationService(db, http, tool, DrConfig.from_settings(settings), metrics),
        ags=AgsClient(http, tokens, timeout=config.ags_timeout_seconds,
                      on_token_refresh=lti_metrics.ags_token_refreshes.inc, production=settings.is_production),
        option_checks=option_checks or {},
    )
