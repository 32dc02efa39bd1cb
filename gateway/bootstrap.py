"""The one composition root: builds every service from settings, once, and nothing at import time.

Feature packages add their service to :class:`Services` and build it in
:func:`bootstrap`. Tests call ``bootstrap(settings)`` with test settings (a
fresh database, loopback base URLs) and may replace a field with
``dataclasses.replace`` to swap in a fake.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from gateway.api.keys import ApiKeyService
from gateway.clever.service import CleverService, build_clever
from gateway.crypto import Cipher
from gateway.handoff.service import HandoffService
from gateway.http import HttpClient
from gateway.identity.service import IdentityService, build_identity
from gateway.jobs import PeriodicJob
from gateway.keys.ring import KeyRing
from gateway.lti.service import LtiServices, build_lti
from gateway.ops.metrics import Metrics
from gateway.settings import Settings
from gateway.store import Database
from gateway.writeback.backends import DeliveryBackend
from gateway.writeback.housekeeping import writeback_jobs
from gateway.writeback.outbox import Outbox, build_outbox
from gateway.writeback.wiring import build_delivery_backends


@dataclass
class Services:
    settings: Settings
    db: Database
    cipher: Cipher
    metrics: Metrics
    http: HttpClient
    keyring: KeyRing
    api_keys: ApiKeyService
    handoff: HandoffService
    # -- lti services --
    lti: LtiServices
    # -- clever services --
    clever: CleverService
    # -- writeback services --
    outbox: Outbox
    delivery_backends: dict[str, DeliveryBackend]  # by backend name ("ags", "clever"); workers claim only these
    # -- identity services --
    identity: IdentityService
    # Keep defaulted fields last (dataclass order).
    periodic_jobs: list[PeriodicJob] = field(default_factory=list)

    def close(self) -> None:
        self.http.close()
        self.db.dispose()


def _discard(handoff: HandoffService) -> Callable[[], None]:
    def purge() -> None:
        handoff.purge_expired()

    return purge


def bootstrap(settings: Settings) -> Services:
    db = Database(settings.database_url)
    cipher = Cipher.from_spec(settings.encryption_keys)
    metrics = Metrics()
    http = HttpClient(metrics, timeout=settings.http_timeout_seconds)
    keyring = KeyRing(
        db,
        settings.keys_path,
        settings.signing_key_pem,
        publish_delay=dt.timedelta(seconds=settings.key_publish_delay_seconds),
        retire_grace=dt.timedelta(seconds=settings.key_retire_grace_seconds),
    )
    services = Services(
        settings=settings,
        db=db,
        cipher=cipher,
        metrics=metrics,
        http=http,
        keyring=keyring,
        api_keys=ApiKeyService(db),
        handoff=HandoffService(db, cipher, settings),
        # -- lti services --
        lti=build_lti(settings, db=db, http=http, metrics=metrics, handoff=HandoffService(db, cipher, settings),
                      keyring=keyring),
        # -- clever services --
        clever=build_clever(settings, db, cipher, http, HandoffService(db, cipher, settings), metrics=metrics),
        # -- writeback services --
        outbox=build_outbox(db, cipher, settings, metrics.registry),
        delivery_backends={},
        # -- identity services --
        identity=build_identity(settings, db, cipher, HandoffService(db, cipher, settings), metrics=metrics),
    )
    services.identity.attach(services.lti, services.clever)  # hooks into the LTI launch and the Clever callback
    # -- writeback backends (issue 7): LTI AGS and Clever LMS Connect --
    services.delivery_backends.update(build_delivery_backends(services))
    # Periodic jobs, appended by features: services.periodic_jobs.append(PeriodicJob(...))
    services.periodic_jobs.append(PeriodicJob("handoff.purge-expired-launches", 900, _discard(services.handoff)))
    # -- lti jobs --
    services.periodic_jobs.append(PeriodicJob("lti-login-states-purge", 600, services.lti.purge_login_states))
    # -- clever jobs --
    services.periodic_jobs.extend(services.clever.jobs(settings))
    # -- writeback jobs --
    services.periodic_jobs.extend(writeback_jobs(db, settings))
    # -- identity jobs --
    services.periodic_jobs.extend(services.identity.jobs())
    return services
