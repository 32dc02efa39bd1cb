"""Roster sync per district over the Data API v3.1 and the Events API (https://dev.clever.com/docs/events-api).

* Full sync: note the newest event first (``ending_before=last``), then page districts, schools, users and
  sections (``links`` ``rel=next``), upserting each page in its own transaction; whatever was not seen is
  archived (deleted or unshared in Clever). Seeing a record again restores it.
* Noting the newest event is best effort: events are opt-in per district and ``last`` is not in Clever's spec.
  If that call fails, the full sync goes on without a cursor, its result says why (``events_error``), and the
  next syncs are full ones (``fallback: events_unavailable``) until a full sync gets a cursor again.
* Increments: ``/events?starting_after=<last event>`` oldest first, applied idempotently, the cursor saved with
  each page. Clever keeps events 30 days: an unknown cursor (404) or an old last sync falls back to a full sync.
* One worker per district at a time (a lease on the district row); progress and the last result are written
  to the district row for the API. Token failures ask Clever for the token list again, which marks a district
  that disconnected the app.
* A failed sync is retried with exponential backoff (``sync_retry_at``), and after ``max_failures`` failures in
  a row the worker stops trying on its own until someone asks for a sync or the district's token changes.
  A success resets the count.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from gateway.clever.client import CleverClient
from gateway.clever.districts import DistrictTokens
from gateway.clever.errors import (
    CleverApiError,
    CleverDistrictDisconnected,
    CleverDistrictNotFound,
    CleverNotFound,
    CleverTokenRejected,
    CleverWrongToken,
)
from gateway.clever.metrics import CleverMetrics
from gateway.clever.roster import RosterCodec, school_values, section_values
from gateway.clever.types import CleverUser, District, Event, School, Section
from gateway.ops.logs import log_event
from gateway.store import Database
from gateway.store.models.base import new_id, utcnow
from gateway.store.models.clever import CleverDistrictRow, CleverRosterUserRow, CleverSchoolRow, CleverSectionRow
from gateway.store.repositories.clever_roster import ROSTER_MODELS, CleverDistrictRepository, CleverRosterRepository

log = logging.getLogger("gateway.clever.sync")

LEASE = dt.timedelta(minutes=10)
# After a failed sync: wait RETRY_BASE, doubling with each failure in a row up to RETRY_MAX; stop after
# MAX_FAILURES (about a day of tries) until someone asks for a sync.
RETRY_BASE = dt.timedelta(minutes=1)
RETRY_MAX = dt.timedelta(hours=6)
MAX_FAILURES = 12


@dataclass
class SyncRun:
    district_id: str
    run_id: str
    token: str
    mode: str
    started_at: dt.datetime
    last_event_id: str | None
    counts: dict[str, int] = field(default_factory=lambda: {"pages": 0, "upserted": 0, "archived": 0})
    fallback: str | None = None
    events_error: str | None = None  # why a full sync has no event cursor

    def progress(self, phase: str) -> dict[str, Any]:
        return {"mode": self.mode, "phase": phase, **self.counts}


@dataclass(frozen=True)
class SyncOutcome:
    district_id: str
    ok: bool
    mode: str
    error_code: str | None
    counts: dict[str, int]


class RosterSync:
    def __init__(self, db: Database, client: CleverClient, codec: RosterCodec, tokens: DistrictTokens,
                 metrics: CleverMetrics, *,
                 interval: dt.timedelta, events_max_age: dt.timedelta, full_interval: dt.timedelta,
                 retry_base: dt.timedelta = RETRY_BASE, retry_max: dt.timedelta = RETRY_MAX,
                 max_failures: int = MAX_FAILURES) -> None:
        self._retry_base = retry_base
        self._retry_max = retry_max
        self.max_failures = max_failures
        self._db = db
        self._client = client
        self._codec = codec
        self._tokens = tokens
        self._metrics = metrics
        self._interval = interval
        self._events_max_age = events_max_age
        self._full_interval = full_interval

    # -- scheduling ---------------------------------------------------------------------------------

    def request(self, district_id: str, *, full: bool) -> None:
        """Queue a sync now (the API's on-demand trigger); a worker runs it on its next pass."""
        now = utcnow()
        with self._db.transaction() as s:
            row = CleverDistrictRepository(s).get(district_id)
            if row is None:
                raise CleverDistrictNotFound()
            if row.status != "connected":
                raise CleverDistrictDisconnected()
            row.sync_requested_at, row.updated_at = now, now
            row.sync_requested_full = row.sync_requested_full or full
            if row.sync_status != "running":
                row.sync_status = "queued"

    def run_due(self) -> list[SyncOutcome]:
        now = utcnow()
        with self._db.transaction() as s:
            due = CleverDistrictRepository(s).due(now, now - self._interval, self.max_failures)
        outcomes = []
        for district_id in due:
            outcome = self.sync(district_id)
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    # -- one district ---------------------------------------------------------------------------------

    def sync(self, district_id: str, *, full: bool = False) -> SyncOutcome | None:
        """Sync one district now. None when another worker holds it or it is not connected."""
        run = self._claim(district_id, full)
        if run is None:
            return None
        try:
            if run.mode == "events":
                try:
                    self._events(run)
                except CleverNotFound:
                    run.mode, run.fallback = "full", "events_expired"
                    self._full(run)
            else:
                self._full(run)
        except CleverApiError as e:
            return self._finish(run, e.code, rejected=isinstance(e, CleverTokenRejected | CleverWrongToken))
        except Exception:
            self._finish(run, "INTERNAL_ERROR")
            raise
        return self._finish(run, None)

    def _claim(self, district_id: str, full: bool) -> SyncRun | None:
        now = utcnow()
        run_id = new_id("syn")
        with self._db.transaction() as s:
            repo = CleverDistrictRepository(s)
            if not repo.claim(district_id, run_id, now, now + LEASE):
                return None
            row = repo.get(district_id)
            assert row is not None  # claimed just now
            token = self._tokens.token(row)
            # Events only reach 30 days back; and a periodic full read catches events a district never sent
            # (events are opt-in per app in Clever's dashboard).
            stale = row.synced_at is None or row.synced_at < now - self._events_max_age
            old_full = row.full_synced_at is None or row.full_synced_at < now - self._full_interval
            wants_full = full or row.sync_requested_full or stale or old_full
            fallback = None
            if row.events_unavailable and not wants_full:
                # The last full sync got no event cursor: events cannot carry on from it.
                wants_full, fallback = True, "events_unavailable"
            row.sync_requested_at, row.sync_requested_full = None, False
            row.sync_progress = {"mode": "full" if wants_full else "events", "phase": "starting",
                                 "pages": 0, "upserted": 0, "archived": 0}
        if token is None:
            self._release(district_id, run_id)
            return None
        mode = "full" if wants_full else "events"
        return SyncRun(district_id, run_id, token, mode, now, None if wants_full else row.last_event_id,
                       fallback=fallback)

    def _full(self, run: SyncRun) -> None:
        try:
            latest = self._client.latest_event(run.token)
        except CleverApiError as e:
            # Events are opt-in and `ending_before=last` is undocumented: read the roster anyway. A token Clever
            # rejects everywhere fails the next call, as it should.
            latest, run.events_error = None, e.code
            log_event(log, logging.WARNING, "clever newest event unavailable; full sync without a cursor",
                      district_id=run.district_id, error_code=e.code)
        district = next((d for d in self._client.districts(run.token) if d.id == run.district_id), None)
        if district is not None:
            with self._db.transaction() as s:
                self._district(s, run, district)
        for page in self._client.schools(run.token):
            with self._db.transaction() as s:
                for school in page.items:
                    self._school(CleverRosterRepository(s), run, school, run.run_id)
                self._heartbeat(s, run, "schools")
        for upage in self._client.users(run.token):
            with self._db.transaction() as s:
                for user in upage.items:
                    self._user(CleverRosterRepository(s), run, user, run.run_id)
                self._heartbeat(s, run, "users")
        for spage in self._client.sections(run.token):
            with self._db.transaction() as s:
                for section in spage.items:
                    self._section(CleverRosterRepository(s), run, section, run.run_id)
                self._heartbeat(s, run, "sections")
        now = utcnow()
        with self._db.transaction() as s:
            roster = CleverRosterRepository(s)
            for model in ROSTER_MODELS.values():
                run.counts["archived"] += roster.archive_unseen(model, run.district_id, run.run_id, now)
        run.last_event_id = latest.id if latest else None

    def _events(self, run: SyncRun) -> None:
        for page in self._client.events(run.token, starting_after=run.last_event_id):
            with self._db.transaction() as s:
                roster = CleverRosterRepository(s)
                for event in page.items:
                    self._apply(s, roster, run, event)
                    run.last_event_id = event.id
                self._heartbeat(s, run, "events")
                # The cursor moves with the changes it covers: a crash resumes after the last whole page.
                row = CleverDistrictRepository(s).get(run.district_id)
                if row is not None:
                    row.last_event_id = run.last_event_id

    def _apply(self, s: Session, roster: CleverRosterRepository, run: SyncRun, event: Event) -> None:
        """Idempotent: a created/updated event upserts (and restores), a deleted one archives."""
        kind, action = event.record_type, event.action
        if kind == "districts":
            if action == "updated" and event.object.get("id") == run.district_id:
                # In the page's own transaction: a second one beside it would wait on SQLite's single writer.
                self._district(s, run, District.parse(event.object))
            return
        if kind not in ROSTER_MODELS or event.object.get("district", run.district_id) != run.district_id:
            return
        record_id = str(event.object.get("id", ""))
        if action == "deleted":
            run.counts["archived"] += int(roster.archive(ROSTER_MODELS[kind], record_id, utcnow()))
        elif kind == "schools":
            self._school(roster, run, School.parse(event.object), None)
        elif kind == "users":
            self._user(roster, run, CleverUser.parse(event.object), None)
        else:
            self._section(roster, run, Section.parse(event.object), None)

    # -- record writers ------------------------------------------------------------------------------

    @staticmethod
    def _district(s: Session, run: SyncRun, district: District) -> None:
        row = CleverDistrictRepository(s).get(run.district_id)
        if row is not None:
            row.name, row.lms_state, row.lms_type = district.name, district.lms_state, district.lms_type

    def _school(self, roster: CleverRosterRepository, run: SyncRun, school: School, run_id: str | None) -> None:
        roster.upsert(CleverSchoolRow, school.id, school_values(school, run.district_id, run_id))
        run.counts["upserted"] += 1

    def _user(self, roster: CleverRosterRepository, run: SyncRun, user: CleverUser, run_id: str | None) -> None:
        values, sis_ids = self._codec.user_values(user, run.district_id, run_id)
        roster.upsert(CleverRosterUserRow, user.id, values)
        roster.set_sis_ids(user.id, run.district_id, sis_ids)
        run.counts["upserted"] += 1

    def _section(self, roster: CleverRosterRepository, run: SyncRun, section: Section, run_id: str | None) -> None:
        values, members = section_values(section, run.district_id, run_id)
        roster.upsert(CleverSectionRow, section.id, values)
        roster.set_members(section.id, members)
        run.counts["upserted"] += 1

    def _heartbeat(self, session: Any, run: SyncRun, phase: str) -> None:
        run.counts["pages"] += 1
        CleverDistrictRepository(session).heartbeat(run.district_id, run.run_id, run.progress(phase),
                                                    utcnow() + LEASE)

    # -- the end of a run ----------------------------------------------------------------------------

    def _finish(self, run: SyncRun, error_code: str | None, *, rejected: bool = False) -> SyncOutcome:
        now = utcnow()
        result: dict[str, Any] = {
            "run_id": run.run_id, "mode": run.mode, "ok": error_code is None, "error_code": error_code,
            "started_at": run.started_at.isoformat(), "finished_at": now.isoformat(), **run.counts,
        }
        if run.fallback:
            result["fallback"] = run.fallback
        if run.events_error:
            result["events_error"] = run.events_error
        with self._db.transaction() as s:
            row = CleverDistrictRepository(s).get(run.district_id)
            if row is not None and row.sync_run_id == run.run_id:
                row.last_sync, row.sync_progress, row.updated_at = result, None, now
                row.sync_run_id, row.sync_lease_until = None, None
                row.sync_status = "succeeded" if error_code is None else "failed"
                if error_code is None:
                    row.synced_at, row.last_event_id = now, run.last_event_id
                    row.sync_failures, row.sync_retry_at = 0, None
                    if run.mode == "full":
                        row.full_synced_at, row.events_unavailable = now, run.events_error
                else:
                    self._back_off(row, now)
        self._metrics.syncs.labels(mode=run.mode, outcome=error_code or "ok").inc()
        level = logging.INFO if error_code is None else logging.WARNING
        counts: dict[str, Any] = dict(run.counts)
        log_event(log, level, "clever roster sync finished", district_id=run.district_id, mode=run.mode,
                  error_code=error_code, **counts)
        if rejected:
            # The token may be revoked: Clever's token list is the authority on whether the district is still here.
            try:
                self._tokens.sync(actor="sync")
            except CleverApiError as e:
                log_event(log, logging.WARNING, "clever token list unavailable", error_code=e.code)
        return SyncOutcome(run.district_id, error_code is None, run.mode, error_code, dict(run.counts))

    def _release(self, district_id: str, run_id: str) -> None:
        with self._db.transaction() as s:
            row = CleverDistrictRepository(s).get(district_id)
            if row is not None and row.sync_run_id == run_id:
                row.sync_run_id, row.sync_lease_until, row.sync_status = None, None, "failed"
                self._back_off(row, utcnow())

    def _back_off(self, row: CleverDistrictRow, now: dt.datetime) -> None:
        """One more failure in a row: wait twice as long as last time (with jitter), or stop at the cap."""
        row.sync_failures = (row.sync_failures or 0) + 1
        if row.sync_failures >= self.max_failures:
            row.sync_retry_at = None
            log_event(log, logging.ERROR, "clever roster sync keeps failing; automatic retries stopped",
                      district_id=row.id, failures=row.sync_failures)
            return
        delay = min(self._retry_max, self._retry_base * 2 ** (row.sync_failures - 1))
        # Jitter, so districts failing together (a Clever outage) do not come back together.
        row.sync_retry_at = now + delay * random.uniform(0.8, 1.0)  # noqa: S311  # not a secret
