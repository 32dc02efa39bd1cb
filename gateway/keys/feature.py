"""The signing-keys feature: the key ring, the public JWKS route and the ``gateway keys`` commands."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar

from flask import Blueprint

import gateway.keys.cli as cli
import gateway.keys.views as views
from gateway.core import Core
from gateway.feature import FeatureDefaults, SettingCheck
from gateway.keys.ring import KeyRing, check_key_files
from gateway.keys.service import KeysServices
from gateway.settings import Settings
from gateway.store.models import core as core_models


@dataclass(frozen=True)
class KeysFeature(FeatureDefaults):
    name: ClassVar[str] = "keys"
    models: ClassVar[tuple[ModuleType, ...]] = (core_models,)

    services: KeysServices

    @classmethod
    def build(cls, core: Core) -> KeysFeature:
        settings = core.settings
        keyring = KeyRing(
            core.db,
            settings.keys_path,
            settings.signing_key_pem,
            publish_delay=dt.timedelta(seconds=settings.key_publish_delay_seconds),
            retire_grace=dt.timedelta(seconds=settings.key_retire_grace_seconds),
            cache_seconds=settings.cache_seconds,
        )
        return cls(KeysServices(settings, keyring))

    @classmethod
    def setting_checks(cls, settings: Settings) -> Sequence[SettingCheck]:
        return (lambda: check_key_files(settings.keys_path, settings.signing_key_pem),)

    @classmethod
    def blueprints(cls) -> Sequence[Blueprint]:
        return [views.bp]

    @classmethod
    def register_commands(cls, commands: Any) -> None:
        cli.register(commands, cls)
