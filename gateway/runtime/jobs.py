"""Periodic jobs: what a feature asks the workers to run on a schedule (Clever sync, purges, housekeeping).

A feature lists its jobs (``Feature.jobs()``); ``gateway worker`` (and the in-process worker of
``gateway serve``) runs each one every ``interval_seconds``, once across all workers
(:mod:`gateway.runtime.scheduler`). A job must be safe to repeat: a worker that dies mid-job leaves a lease
that expires, and the job runs again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval_seconds: float
    run: Callable[[], None]
