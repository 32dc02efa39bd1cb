"""Periodic jobs that the worker runs on a schedule (Clever district sync, outbox housekeeping, ...).

Feature packages add a :class:`PeriodicJob` to ``Services.periodic_jobs`` in
:func:`gateway.bootstrap.bootstrap`; ``gateway worker`` (and the in-process worker
of ``gateway serve``) runs each one every ``interval_seconds``. A job must be
safe to run on several workers at once (take a row lock or lease if it is not).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval_seconds: float
    run: Callable[[], None]
