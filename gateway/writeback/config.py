"""Writeback's settings, read and checked once at start-up: the outbox and its backends
(:class:`WritebackConfig`), and the workers (:class:`WorkerConfig`)."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.settings import Settings, SettingsError, at_least, not_negative, positive
from gateway.writeback.retry import RetryPolicy

IN_PROCESS_CHOICES = ("auto", "true", "false")


@dataclass(frozen=True)
class WritebackConfig:
    """The outbox's retry schedule and the delivery backends' knobs."""

    retry: RetryPolicy
    ags_timeout_seconds: float
    assignment_wait_seconds: float

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
            ags_timeout_seconds=positive(settings, "writeback_ags_timeout_seconds"),
            assignment_wait_seconds=positive(settings, "writeback_assignment_wait_seconds"),
        )


@dataclass(frozen=True)
class WorkerConfig:
    concurrency: int
    lease_seconds: float
    poll_seconds: float
    max_delivery_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings, concurrency: int | None = None) -> WorkerConfig:
        config = cls(
            concurrency=concurrency or settings.writeback_concurrency,
            lease_seconds=settings.writeback_lease_seconds,
            poll_seconds=settings.writeback_poll_seconds,
            max_delivery_seconds=settings.writeback_max_delivery_seconds,
        )
        if config.concurrency < 1:
            raise SettingsError("GATEWAY_WRITEBACK_CONCURRENCY", "must be at least 1")
        if config.lease_seconds <= 0:
            raise SettingsError("GATEWAY_WRITEBACK_LEASE_SECONDS", "must be positive")
        if config.poll_seconds <= 0:
            raise SettingsError("GATEWAY_WRITEBACK_POLL_SECONDS", "must be positive")
        if config.max_delivery_seconds < config.lease_seconds:
            raise SettingsError("GATEWAY_WRITEBACK_MAX_DELIVERY_SECONDS", "must be at least the lease")
        if settings.worker_in_process not in IN_PROCESS_CHOICES:
            raise SettingsError("GATEWAY_WORKER_IN_PROCESS", f"must be one of {', '.join(IN_PROCESS_CHOICES)}")
        if settings.idempotency_retention_hours < 1:
            raise SettingsError("GATEWAY_IDEMPOTENCY_RETENTION_HOURS", "must be at least 1")
        if settings.writeback_delivered_retention_days < 1:
            raise SettingsError("GATEWAY_WRITEBACK_DELIVERED_RETENTION_DAYS", "must be at least 1")
        return config


def runs_in_process(settings: Settings) -> bool:
    """Whether ``gateway serve`` runs a worker itself: by default on SQLite (the embedded default) only."""
    if settings.worker_in_process == "auto":
        return settings.database_url.startswith("sqlite")
    return settings.worker_in_process == "true"
