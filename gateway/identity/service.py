"""The identity feature, built once by :func:`gateway.bootstrap.bootstrap` and wired into the LTI launch and the
Clever callback there (the two hooks this feature needs)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from gateway.clever.privacy import LookupDigest
from gateway.clever.service import CleverService
from gateway.crypto import Cipher
from gateway.handoff.service import HandoffService
from gateway.identity.admin import IdentityAdmin
from gateway.identity.clever_link import LINK_ORIGIN, CleverLinkFlow
from gateway.identity.launches import LaunchIdentity
from gateway.identity.metrics import IdentityMetrics
from gateway.jobs import PeriodicJob
from gateway.lti.service import LtiServices
from gateway.ops.metrics import Metrics
from gateway.settings import Settings
from gateway.store import Database


@dataclass
class IdentityService:
    launches: LaunchIdentity
    link_flow: CleverLinkFlow
    admin: IdentityAdmin
    metrics: IdentityMetrics

    def jobs(self) -> list[PeriodicJob]:
        def purge() -> None:
            self.link_flow.purge_expired()

        return [PeriodicJob("identity.pending_links_purge", 600.0, purge)]

    def attach(self, lti: LtiServices, clever: CleverService) -> None:
        """The two hooks: every LTI launch resolves its user; Clever logins this feature started come back here."""
        lti.launches.identity = self.launches
        self.link_flow.use_clever(clever.login, configured=clever.config.configured)
        clever.login.handbacks[LINK_ORIGIN] = self.link_flow.complete


def build_identity(settings: Settings, db: Database, cipher: Cipher, handoff: HandoffService,
                   *, metrics: Metrics | None = None) -> IdentityService:
    counters = IdentityMetrics(metrics.registry if metrics is not None else CollectorRegistry())
    flow = CleverLinkFlow(db, cipher, handoff, public_base_url=settings.public_base_url, metrics=counters)
    return IdentityService(
        launches=LaunchIdentity(LookupDigest(settings.secret_key), counters, flow),
        link_flow=flow,
        admin=IdentityAdmin(),
        metrics=counters,
    )
