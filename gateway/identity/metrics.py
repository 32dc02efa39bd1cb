"""Prometheus counters of identity matching, on the app's registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class IdentityMetrics:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.matches = Counter(
            "gateway_identity_matches_total", "LTI launches by match result (existing, sis_id, ..., unmatched)",
            ["result"], registry=registry,
        )
        self.links = Counter(
            "gateway_identity_links_total", "Links and unlinks made, by method (unlink for an unlink)",
            ["method"], registry=registry,
        )
        self.conflicts = Counter(
            "gateway_identity_conflicts_total", "Conflicts met (new or repeated), by kind", ["kind"],
            registry=registry,
        )
