"""Worker settings, read and checked once at start-up by the composition root, and read by every worker.

The variables keep their ``GATEWAY_WRITEBACK_*`` names: the outbox was the workers' first work source.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.settings import Settings, SettingsError, at_least, one_of, positive

IN_PROCESS_CHOICES = ("auto", "true", "false")


@dataclass(frozen=True)
class WorkerConfig:
    concurrency: int
    lease_seconds: float
    poll_seconds: float
    max_delivery_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings, concurrency: int | None = None) -> WorkerConfig:
        lease = positive(settings, "writeback_lease_seconds")
        one_of(settings, "worker_in_process", IN_PROCESS_CHOICES)
        return cls(
            concurrency=_concurrency(settings, concurrency),
            lease_seconds=lease,
            poll_seconds=positive(settings, "writeback_poll_seconds"),
            max_delivery_seconds=at_least(settings, "writeback_max_delivery_seconds", lease, "the lease"),
        )


def _concurrency(settings: Settings, override: int | None) -> int:
    """``gateway worker --concurrency N`` wins over the setting; either must be at least 1."""
    if not override:
        return int(at_least(settings, "writeback_concurrency", 1))
    if override < 1:
        raise SettingsError(settings.env_name("writeback_concurrency"), "must be at least 1")
    return override


def runs_in_process(settings: Settings) -> bool:
    """Whether ``gateway serve`` runs a worker itself: by default on SQLite (the embedded default) only."""
    if settings.worker_in_process == "auto":
        return settings.database_url.startswith("sqlite")
    return settings.worker_in_process == "true"
