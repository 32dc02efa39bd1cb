"""The overview page's numbers, as plain values. No Flask here.

Launches, deliveries and Clever syncs are counted from the store over the last hour and day. Refusals are not
stored (a refused launch stores nothing, by design), so they come from this process's in-memory tally by stable
code (:class:`gateway.ops.recent.RecentTally`), over the same windows: this replica's refusals.
``gateway_lti_refusals_total`` on ``/metrics``, summed over replicas, is the fleet's view.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gateway.store import Database
from gateway.store.models.base import iso, utcnow
from gateway.store.repositories.console_overview import ConsoleOverviewRepository

WINDOWS: tuple[tuple[str, dt.timedelta], ...] = (("last hour", dt.timedelta(hours=1)),
                                                 ("last day", dt.timedelta(days=1)))


@dataclass(frozen=True)
class Window:
    label: str
    launches: Mapping[str, int]
    deliveries: Mapping[str, int]
    syncs: Mapping[str, int]
    refusals: Mapping[str, int]


@dataclass(frozen=True)
class Overview:
    windows: tuple[Window, ...]
    deliveries_now: Mapping[str, int]
    districts: Mapping[str, int]

    def side_by_side(self, measure: str) -> list[tuple[str, list[int]]]:
        """One measure (``launches``, ``deliveries``, ``syncs``, ``refusals``) as rows of counts, a column a window."""
        tables = [getattr(w, measure) for w in self.windows]
        keys = sorted({k for table in tables for k in table})
        return [(k, [table.get(k, 0) for table in tables]) for k in keys]


def overview(db: Database, refusals: Callable[[float], dict[str, int]], *,
             now: dt.datetime | None = None) -> Overview:
    """The counts; ``refusals(seconds)`` gives the refusals by code over the last ``seconds``."""
    now = now or utcnow()
    with db.transaction() as s:
        repo = ConsoleOverviewRepository(s)
        windows = tuple(
            Window(label, repo.launches_since(now - span), repo.deliveries_since(now - span),
                   repo.districts_synced_since(now - span), refusals(span.total_seconds()))
            for label, span in WINDOWS
        )
        return Overview(windows, repo.deliveries_by_state(), repo.districts_by_state())


@dataclass(frozen=True)
class AuditLine:
    id: int
    at: str
    actor: str
    action: str
    target: str
    details: Mapping[str, object]


def audit_entries(db: Database, *, actor: str | None = None, action: str | None = None, target: str | None = None,
                  before_id: int | None = None, limit: int = 100) -> tuple[list[AuditLine], int | None]:
    """A page of the audit log, newest first, and the id to read older entries before (None at the end)."""
    with db.transaction() as s:
        rows = ConsoleOverviewRepository(s).audit(actor=actor, action=action, target=target, before_id=before_id,
                                                  limit=limit + 1)
        lines = [AuditLine(r.id, iso(r.at), r.actor, r.action, r.target, dict(r.details or {})) for r in rows[:limit]]
    return lines, (lines[-1].id if len(rows) > limit else None)
