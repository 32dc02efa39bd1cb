"""Prometheus counters of the Clever feature (on the app's registry; outbound calls are counted by HttpClient)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class CleverMetrics:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.logins = Counter(
            "gateway_clever_logins_total", "Clever logins handed off to the vendor app",
            ["integration", "initiated_by"], registry=registry,
        )
        self.syncs = Counter(
            "gateway_clever_syncs_total", "Roster syncs finished, by mode and outcome (ok or an error code)",
            ["mode", "outcome"], registry=registry,
        )
        self.districts = Counter(
            "gateway_clever_district_changes_total", "District connections seen by the token sync",
            ["change"], registry=registry,
        )
