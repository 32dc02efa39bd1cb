"""Writeback's settings, read and checked once at start-up: the outbox's retry schedule, the delivery backends'
knobs, and how long delivered rows and idempotency keys are kept."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.settings import Settings, at_least, not_negative, positive
from gateway.writeback.retry import RetryPolicy


@dataclass(frozen=True)
class WritebackConfig:
    retry: RetryPolicy
    assignment_wait_seconds: float
    delivered_retention_days: int
    idempotency_retention_hours: int

    @classmethod
    def from_settings(cls, settings: Settings) -> WritebackConfig:
        base = positive(settings, "writeback_backoff_base_seconds")
        retry = RetryPolicy(
            max_attempts=at_least(settings, "writeback_max_attempts", 1),
            base_seconds=base,
            cap_seconds=at_least(settings, "writeback_backoff_cap_seconds", base, "the backoff base"),
            retry_after_max_seconds=not_negative(settings, "writeback_retry_after_max_seconds"),
        )
        return cls(
            retry=retry,
            assignment_wait_seconds=positive(settings, "writeback_assignment_wait_seconds"),
            delivered_retention_days=at_least(settings, "writeback_delivered_retention_days", 1),
            idempotency_retention_hours=at_least(settings, "idempotency_retention_hours", 1),
        )
