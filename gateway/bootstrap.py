"""The one composition root: builds every feature from settings, once, and nothing at import time.

Features are built in dependency order; each gets the :class:`~gateway.core.Core` and the public services of
the features it needs, and nothing is patched in afterwards. The app (:mod:`gateway.app`), the CLI
(:mod:`gateway.cli`) and the workers loop over :attr:`Services.features`. Tests call ``bootstrap(settings)``
with test settings (a fresh database, loopback base URLs).

To add a feature: write its package (``service.py``, ``feature.py`` with its ``setting_checks``, views, CLI; see
:mod:`gateway.feature`), add its class to :data:`FEATURES`, and build it below where its dependencies exist.
:func:`check_settings` runs every feature's ``setting_checks`` with the core's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from gateway.api.feature import ApiFeature
from gateway.api.keys import ApiKeyService
from gateway.clever import CleverServices
from gateway.clever.feature import CleverFeature
from gateway.console.feature import ConsoleFeature
from gateway.core import Core
from gateway.crypto import Cipher
from gateway.feature import Feature
from gateway.handoff import HandoffService
from gateway.handoff.feature import HandoffFeature
from gateway.health.feature import HealthFeature
from gateway.http import HttpClient
from gateway.identity import IdentityServices
from gateway.identity.feature import LINK_ORIGIN, IdentityFeature
from gateway.keys import KeyRing
from gateway.keys.feature import KeysFeature
from gateway.lti import LtiServices
from gateway.lti.feature import LtiFeature
from gateway.ops.metrics import Metrics
from gateway.runtime import (
    PeriodicJob,
    RuntimeMetrics,
    Worker,
    WorkerConfig,
    WorkerGuard,
    sqlite_lock_path,
    worker_owner,
)
from gateway.settings import KeyFiles, Settings, check_production, collect, raise_problems
from gateway.store import Database, check_database_url
from gateway.writeback import WritebackServices
from gateway.writeback.backends import DeliveryBackend
from gateway.writeback.feature import WritebackFeature
from gateway.writeback.outbox import Outbox

F = TypeVar("F")

# Every feature, in the order their routes, commands and jobs are registered.
FEATURES: tuple[type[Feature], ...] = (
    HealthFeature, KeysFeature, ApiFeature, HandoffFeature, LtiFeature, CleverFeature, WritebackFeature,
    IdentityFeature, ConsoleFeature,
)


@dataclass
class Services:
    """Everything built: the core and each feature. The typed shortcuts are for the CLI, tests and benchmarks."""

    core: Core
    worker_config: WorkerConfig
    runtime_metrics: RuntimeMetrics
    features: tuple[Feature, ...]
    # Every feature's periodic jobs; a list, so a test may add its own before a worker starts.
    periodic_jobs: list[PeriodicJob] = field(default_factory=list)

    def get(self, kind: type[F]) -> F:
        """The built feature of a class: ``services.get(LtiFeature)``."""
        for built in self.features:
            if isinstance(built, kind):
                return built
        raise LookupError(f"{kind.__name__} is not among the built features; add it to FEATURES and bootstrap()")

    @property
    def settings(self) -> Settings:
        return self.core.settings

    @property
    def db(self) -> Database:
        return self.core.db

    @property
    def cipher(self) -> Cipher:
        return self.core.cipher

    @property
    def metrics(self) -> Metrics:
        return self.core.metrics

    @property
    def http(self) -> HttpClient:
        return self.core.http

    @property
    def keyring(self) -> KeyRing:
        return self.get(KeysFeature).services.keyring

    @property
    def api_keys(self) -> ApiKeyService:
        return self.get(ApiFeature).services

    @property
    def handoff(self) -> HandoffService:
        return self.get(HandoffFeature).services

    @property
    def lti(self) -> LtiServices:
        return self.get(LtiFeature).services

    @property
    def clever(self) -> CleverServices:
        return self.get(CleverFeature).services

    @property
    def identity(self) -> IdentityServices:
        return self.get(IdentityFeature).services

    @property
    def writeback(self) -> WritebackServices:
        return self.get(WritebackFeature).services

    @property
    def outbox(self) -> Outbox:
        return self.writeback.outbox

    @property
    def delivery_backends(self) -> dict[str, DeliveryBackend]:
        return self.writeback.backends

    def with_features(self, *replacements: Feature) -> Services:
        """A copy with some features swapped for others of the same class (tests swap in fakes this way)."""
        swapped = {type(f): f for f in replacements}
        return dataclasses.replace(self, features=tuple(swapped.get(type(f), f) for f in self.features))

    def close(self) -> None:
        self.core.close()


def check_settings(settings: Settings, *, serving: bool = False, key_files: KeyFiles | None = None) -> None:
    """Check every setting every feature reads, without connecting anywhere, and refuse them all at once.

    Runs before anything starts (``gateway serve`` checks here, in the parent process, rather than in a gunicorn
    worker whose failure reads "Worker failed to boot"). ``serving`` adds production's refusals (dev defaults, the
    signing key), which commands such as ``keys generate`` must not meet. Raises ``SettingsError`` (one) or
    ``SettingsErrors`` (several), each naming its ``GATEWAY_*`` variable.
    """
    problems = collect(
        lambda: check_production(settings, key_files) if serving else None,
        lambda: check_database_url(settings.database_url),
        lambda: Cipher.from_spec(settings.encryption_keys),
        lambda: WorkerConfig.from_settings(settings),
        *(check for feature in FEATURES for check in feature.setting_checks(settings)),
    )
    unique = {str(p): p for p in problems}  # a feature may repeat a refusal (the tool profile's of the base URL)
    raise_problems(list(unique.values()))


def bootstrap(settings: Settings) -> Services:
    core = Core.build(settings)
    worker_config = WorkerConfig.from_settings(settings)  # a bad worker setting stops start-up, not the worker
    keys = KeysFeature.build(core)
    api = ApiFeature.build(core)
    handoff = HandoffFeature.build(core)
    link_flow = IdentityFeature.link_flow(core, handoff=handoff.services)
    clever = CleverFeature.build(core, handoff=handoff.services, handbacks={LINK_ORIGIN: link_flow.complete})
    identity = IdentityFeature.build(core, link_flow=link_flow, clever=clever.services)
    lti = LtiFeature.build(
        core, handoff=handoff.services, keyring=keys.services.keyring,
        launch_steps=(identity.launch_step(), WritebackFeature.launch_step()),
        option_checks=IdentityFeature.option_checks(),
    )
    writeback = WritebackFeature.build(core, ags=lti.services.ags, clever=clever.services)
    health = HealthFeature.build(core, signing_key_ready=keys.services.signing_key_ready)
    console = ConsoleFeature.build(core, lti=lti.services)
    features = _in_order(health, keys, api, handoff, lti, clever, writeback, identity, console)
    return Services(
        core=core,
        worker_config=worker_config,
        runtime_metrics=RuntimeMetrics(core.metrics.registry),
        features=features,
        periodic_jobs=[job for f in features for job in f.jobs()],
    )


def _in_order(*built: Feature) -> tuple[Feature, ...]:
    """The built features in :data:`FEATURES` order; a feature built but not listed (or listed, not built) is a
    wiring mistake, said at start-up rather than found as a missing route."""
    by_class = {type(f): f for f in built}
    if set(by_class) != set(FEATURES):
        missing = sorted(k.__name__ for k in set(FEATURES) ^ set(by_class))
        raise RuntimeError(f"FEATURES and bootstrap() disagree about: {', '.join(missing)}")
    return tuple(by_class[kind] for kind in FEATURES)


def build_worker(services: Services, *, concurrency: int | None = None, owner: str | None = None) -> Worker:
    """A worker over this process's services: the outbox of the backends it has, and every periodic job."""
    owner = owner or worker_owner()
    config = services.worker_config if concurrency is None else WorkerConfig.from_settings(
        services.settings, concurrency)
    writeback = services.get(WritebackFeature)
    return Worker(
        config,
        db=services.db,
        source=writeback.work_source(owner),
        jobs=lambda: list(services.periodic_jobs),
        guard=WorkerGuard(sqlite_lock_path(services.settings.database_url)),
        metrics=services.runtime_metrics,
        owner=owner,
    )


def registered_tables(features: Sequence[Feature]) -> set[str]:
    """The tables the features' model modules declare (a test checks every table belongs to a feature)."""
    from gateway.store.models import Base

    modules = {m.__name__ for f in features for m in f.models}
    return {t.name for mapper in Base.registry.mappers if mapper.class_.__module__ in modules
            for t in mapper.tables}
