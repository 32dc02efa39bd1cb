"""The Clever feature, built once by :func:`gateway.bootstrap.bootstrap` from settings.

``CleverService`` holds the client, the login flow, the token and roster sync and the roster reader, and
names the periodic jobs the worker runs (token discovery, roster sync, housekeeping).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from gateway.clever.client import CleverClient, build_client
from gateway.clever.config import CleverConfig
from gateway.clever.districts import DistrictTokens
from gateway.clever.errors import CleverApiError
from gateway.clever.login import CleverLogin
from gateway.clever.metrics import CleverMetrics
from gateway.clever.privacy import LookupDigest
from gateway.clever.reader import RosterReader
from gateway.clever.roster import RosterCodec
from gateway.clever.sync import RosterSync
from gateway.crypto import Cipher
from gateway.handoff.service import HandoffService
from gateway.http import HttpClient
from gateway.jobs import PeriodicJob
from gateway.ops.logs import log_event
from gateway.ops.metrics import Metrics
from gateway.settings import Settings
from gateway.store import Database
from gateway.store.models.base import utcnow
from gateway.store.repositories.clever import CleverLoginRepository

log = logging.getLogger("gateway.clever")


@dataclass
class CleverService:
    config: CleverConfig
    client: CleverClient
    login: CleverLogin
    tokens: DistrictTokens
    sync: RosterSync
    roster: RosterReader
    db: Database

    def housekeeping(self) -> int:
        """Forget expired login states and remembered codes."""
        with self.db.transaction() as s:
            return CleverLoginRepository(s).purge_expired(utcnow())

    def jobs(self, settings: Settings) -> list[PeriodicJob]:
        def tokens() -> None:
            if not self.config.configured:
                return
            try:
                self.tokens.sync()
            except CleverApiError as e:
                log_event(log, logging.WARNING, "clever token sync failed", error_code=e.code)

        def roster() -> None:
            if self.config.configured:
                self.sync.run_due()

        def purge() -> None:
            self.housekeeping()

        return [
            PeriodicJob("clever.district_tokens", float(settings.clever_token_sync_interval_seconds), tokens),
            # Short interval: it also picks up on-demand syncs; each district syncs at its own interval.
            PeriodicJob("clever.roster_sync", 30.0, roster),
            PeriodicJob("clever.housekeeping", 600.0, purge),
        ]


def build_clever(settings: Settings, db: Database, cipher: Cipher, http: HttpClient, handoff: HandoffService,
                 *, metrics: Metrics | None = None) -> CleverService:
    counters = CleverMetrics(metrics.registry if metrics is not None else CollectorRegistry())
    client = build_client(settings, http)
    digest = LookupDigest(settings.secret_key)
    codec = RosterCodec(cipher, digest)
    tokens = DistrictTokens(db, cipher, client, counters)
    sync = RosterSync(
        db, client, codec, tokens, counters,
        interval=dt.timedelta(seconds=settings.clever_sync_interval_seconds),
        events_max_age=dt.timedelta(days=settings.clever_events_max_age_days),
        full_interval=dt.timedelta(seconds=settings.clever_full_sync_interval_seconds),
    )
    return CleverService(
        config=client.config,
        client=client,
        login=CleverLogin(db, cipher, handoff, client, client.config, counters),
        tokens=tokens,
        sync=sync,
        roster=RosterReader(db, codec, digest),
        db=db,
    )
