"""The Clever feature's services: the client, the login flow, the token and roster sync, the roster reader.

Built once by the composition root (:class:`gateway.clever.feature.CleverFeature`). Logins that another feature
starts (a login state's ``origin``) finish in that feature's hand-back, given here at construction.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.clever.client import CleverClient, build_client
from gateway.clever.config import CleverConfig
from gateway.clever.districts import DistrictTokens
from gateway.clever.login import CleverLogin, Handback
from gateway.clever.metrics import CleverMetrics
from gateway.clever.privacy import LookupDigest
from gateway.clever.ratelimit import StoreRateLimiter
from gateway.clever.reader import RosterReader
from gateway.clever.roster import RosterCodec
from gateway.clever.sync import RosterSync
from gateway.crypto import Cipher
from gateway.handoff import HandoffService
from gateway.http import HttpClient
from gateway.ops.metrics import Metrics
from gateway.settings import Settings
from gateway.store import Database
from gateway.store.models.base import utcnow
from gateway.store.repositories.audit import AuditRepository
from gateway.store.repositories.clever import CleverLoginRepository


@dataclass(frozen=True)
class CleverServices:
    config: CleverConfig
    client: CleverClient
    login: CleverLogin
    tokens: DistrictTokens
    sync: RosterSync
    roster: RosterReader
    metrics: CleverMetrics
    db: Database
    # One rate budget per Clever token for the deployment: every Clever client draws from it (writeback too).
    budget: StoreRateLimiter

    def request_sync(self, district_id: str, *, full: bool, actor: str) -> dict[str, Any]:
        """Ask for a district's roster sync now (the admin API and the console), audited; the district's view."""
        self.sync.request(district_id, full=full)
        with self.db.transaction() as s:
            AuditRepository(s).record(actor, "clever.sync.request", f"clever_district:{district_id}", full=full)
        return self.roster.district(district_id)

    def housekeeping(self) -> int:
        """Forget expired login states, remembered codes and the budgets of idle tokens."""
        with self.db.transaction() as s:
            purged = CleverLoginRepository(s).purge_expired(utcnow())
        return purged + self.budget.purge_idle()


def build_clever(settings: Settings, db: Database, cipher: Cipher, http: HttpClient, handoff: HandoffService,
                 *, metrics: Metrics, handbacks: Mapping[str, Handback]) -> CleverServices:
    counters = CleverMetrics(metrics.registry)
    budget = StoreRateLimiter(db, CleverConfig.from_settings(settings).rate_limit_per_minute, clock=time.time,
                              sleep=time.sleep)
    client = build_client(settings, http, limiter=budget)
    digest = LookupDigest(settings.secret_key)
    codec = RosterCodec(cipher, digest)
    tokens = DistrictTokens(db, cipher, client, counters)
    sync = RosterSync(
        db, client, codec, tokens, counters,
        interval=dt.timedelta(seconds=settings.clever_sync_interval_seconds),
        events_max_age=dt.timedelta(days=settings.clever_events_max_age_days),
        full_interval=dt.timedelta(seconds=settings.clever_full_sync_interval_seconds),
    )
    return CleverServices(
        config=client.config,
        client=client,
        login=CleverLogin(db, cipher, handoff, client, client.config, counters, handbacks=handbacks),
        tokens=tokens,
        sync=sync,
        roster=RosterReader(db, codec, digest),
        metrics=counters,
        db=db,
        budget=budget,
    )
