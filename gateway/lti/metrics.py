"""Prometheus metrics of the LTI feature, on the app's own registry."""

from __future__ import annotations

from prometheus_client import Counter

from gateway.ops.metrics import Metrics
from gateway.ops.recent import RecentTally


class LtiMetrics:
    def __init__(self, metrics: Metrics) -> None:
        self.launches = Counter(
            "gateway_lti_launches_total", "Verified LTI launches handed to the vendor app", ["message_type"],
            registry=metrics.registry,
        )
        self.refusals = Counter(
            "gateway_lti_refusals_total", "Refused LTI logins, launches and deep-link responses by stable code",
            ["code"], registry=metrics.registry,
        )
        # The same refusals over the last hour and day, for the operator console (a counter knows only "since start").
        self.recent_refusals = RecentTally()
        self.jwks_fetches = Counter(
            "gateway_lti_jwks_fetches_total", "Platform JWKS fetches: why (cold, expired, unknown_kid) and how",
            ["reason", "result"], registry=metrics.registry,
        )
        # Not "verified" means ignored: the launch goes on without trusting the claim (gateway.lti.migration).
        self.migration_claims = Counter(
            "gateway_lti_migration_claims_total", "LTI 1.1 migration claims (lti1p1) in launches, by outcome",
            ["outcome"], registry=metrics.registry,
        )
        # A cached token costs no request, so a high rate means the cache is not working.
        self.ags_token_requests = Counter(
            "gateway_ags_token_requests_total", "AGS access-token requests by outcome", ["outcome"],
            registry=metrics.registry,
        )
        self.ags_token_refreshes = Counter(
            "gateway_ags_token_refreshes_total", "AGS tokens fetched again after a 401", registry=metrics.registry,
        )

    def refused(self, code: str) -> None:
        """Count one refusal by its stable code."""
        self.refusals.labels(code=code).inc()
        self.recent_refusals.add(code)
