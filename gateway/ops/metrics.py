"""Prometheus metrics, one registry per app so that tests and replicas do not share counters."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "gateway_http_requests_total", "Requests served", ["method", "endpoint", "status"], registry=self.registry
        )
        self.request_seconds = Histogram(
            "gateway_http_request_seconds", "Time to serve a request", ["endpoint"], registry=self.registry
        )
        self.errors = Counter(
            "gateway_errors_total", "Refusals and failures by stable error code", ["code"], registry=self.registry
        )
        self.outbound_responses = Counter(
            "gateway_outbound_responses_total", "Outbound responses", ["system", "status"], registry=self.registry
        )
        self.outbound_failures = Counter(
            "gateway_outbound_failures_total",
            "Outbound calls that got no response",
            ["system", "reason"],
            registry=self.registry,
        )
        self.outbound_seconds = Histogram(
            "gateway_outbound_seconds", "Outbound call latency", ["system"], registry=self.registry
        )
