"""Secure Sync connections: district-app tokens from ``GET /oauth/tokens?owner_type=district`` (Clever's docs).

Every token Clever lists is stored encrypted (context-bound to its district). A district Clever stops listing has
disconnected the app: its token is dropped, it is marked ``disconnected`` and its roster archived (kept for
history, no longer served as current). A district that comes back gets a full sync.

An empty list while districts are connected is suspicious (a glitch at Clever would otherwise disconnect every
district and archive every roster in one pass). Then each connected district's own token is tried
(``GET /v3.1/districts``): only a district whose token Clever now rejects (401/403) is disconnected; the others are
kept, reported as ``held``, logged and audited for the operator. A non-empty list is trusted as it is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from gateway.clever.client import CleverClient
from gateway.clever.errors import CleverApiError, CleverTokenRejected
from gateway.clever.metrics import CleverMetrics
from gateway.crypto import Cipher, DecryptionError
from gateway.ops.logs import log_event
from gateway.store import Database
from gateway.store.models.base import utcnow
from gateway.store.models.clever import CleverDistrictRow
from gateway.store.repositories.audit import AuditRepository
from gateway.store.repositories.clever_roster import CleverDistrictRepository, CleverRosterRepository

log = logging.getLogger("gateway.clever.districts")


def token_context(district_id: str) -> str:
    return f"clever.district_token:{district_id}"


@dataclass
class TokenSyncResult:
    connected: list[str] = field(default_factory=list)
    reconnected: list[str] = field(default_factory=list)
    refreshed: list[str] = field(default_factory=list)
    disconnected: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # Missing from an empty list, but their tokens still work: kept connected (see the module docstring).
    held: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in
                ("connected", "reconnected", "refreshed", "disconnected", "unchanged", "held")}


class DistrictTokens:
    def __init__(self, db: Database, cipher: Cipher, client: CleverClient, metrics: CleverMetrics) -> None:
        self._metrics = metrics
        self._db = db
        self._cipher = cipher
        self._client = client

    def sync(self, *, actor: str = "job") -> TokenSyncResult:
        """Bring stored tokens in line with Clever's list. A failed list call changes nothing."""
        listed = {t.district_id: t for t in self._client.district_tokens()}
        working = set() if listed else self._tokens_still_working()
        result = TokenSyncResult()
        now = utcnow()
        with self._db.transaction() as s:
            repo = CleverDistrictRepository(s)
            audit = AuditRepository(s)
            for district_id, token in listed.items():
                encrypted = self._cipher.encrypt(token.access_token, token_context(district_id))
                row = repo.get(district_id)
                if row is None:
                    repo.add(CleverDistrictRow(
                        id=district_id, status="connected", token_encrypted=encrypted, token_id=token.token_id,
                        connected_at=now, sync_status="queued", sync_requested_at=now, sync_requested_full=True,
                        created_at=now, updated_at=now,
                    ))
                    result.connected.append(district_id)
                    audit.record(actor, "clever.district.connect", f"clever_district:{district_id}")
                elif row.status != "connected":
                    row.status, row.token_encrypted, row.token_id = "connected", encrypted, token.token_id
                    row.connected_at, row.disconnected_at, row.updated_at = now, None, now
                    # Anything may have changed while disconnected; events would not cover it.
                    row.last_event_id, row.full_synced_at = None, None
                    row.sync_status, row.sync_requested_at, row.sync_requested_full = "queued", now, True
                    row.sync_failures, row.sync_retry_at, row.events_unavailable = 0, None, None
                    result.reconnected.append(district_id)
                    audit.record(actor, "clever.district.reconnect", f"clever_district:{district_id}")
                elif self._stored(row) != token.access_token:
                    row.token_encrypted, row.token_id, row.updated_at = encrypted, token.token_id, now
                    # A new token may cure what failed with the old one: no more waiting out a backoff.
                    row.sync_failures, row.sync_retry_at = 0, None
                    result.refreshed.append(district_id)
                    audit.record(actor, "clever.district.token_refresh", f"clever_district:{district_id}")
                else:
                    result.unchanged.append(district_id)
            for row in repo.with_status("connected"):
                if row.id in listed:
                    continue
                if row.id in working:
                    result.held.append(row.id)
                    audit.record(actor, "clever.district.disconnect_held", f"clever_district:{row.id}",
                                 reason="empty token list, token still works")
                    continue
                row.status, row.token_encrypted, row.token_id = "disconnected", None, None
                row.disconnected_at, row.updated_at, row.sync_requested_at = now, now, None
                CleverRosterRepository(s).archive_district(row.id, now)
                result.disconnected.append(row.id)
                audit.record(actor, "clever.district.disconnect", f"clever_district:{row.id}")
        for change, count in result.summary().items():
            if count and change != "unchanged":
                self._metrics.districts.labels(change=change).inc(count)
        if result.held:
            log_event(log, logging.WARNING, "clever token list empty but district tokens still work; kept",
                      held=len(result.held))
        summary: dict[str, Any] = dict(result.summary())
        log_event(log, logging.INFO, "clever district tokens synced", **summary)
        return result

    def _tokens_still_working(self) -> set[str]:
        """Connected districts whose token Clever still accepts (asked only when the token list came back empty)."""
        with self._db.transaction() as s:
            stored = [(row.id, self._stored(row)) for row in CleverDistrictRepository(s).with_status("connected")]
        working: set[str] = set()
        for district_id, token in stored:
            if token is None:
                continue  # unreadable here: nothing to try, follow Clever's list
            try:
                self._client.districts(token)
            except CleverTokenRejected:
                continue  # really disconnected
            except CleverApiError as e:
                # Cannot tell (Clever down, odd answer): keeping is the cautious side.
                log_event(log, logging.WARNING, "clever district token check inconclusive", district_id=district_id,
                          error_code=e.code)
            working.add(district_id)
        return working

    def token(self, row: CleverDistrictRow) -> str | None:
        return self._stored(row)

    def token_for(self, district_id: str) -> str | None:
        """The district-app token of a connected district (for LMS Connect writeback), else None."""
        with self._db.transaction() as s:
            row = CleverDistrictRepository(s).get(district_id)
            return self._stored(row) if row is not None and row.status == "connected" else None

    def reread_token(self, district_id: str, rejected: str) -> str | None:
        """Clever rejected ``rejected`` (a 401 on writeback): read Clever's token list again, as the sync does, and
        give the district's token if it is now another one (re-authorized), else None (unchanged, disconnected, or
        the list could not be read)."""
        try:
            self.sync(actor="writeback")
        except CleverApiError as e:
            log_event(log, logging.WARNING, "clever token list unavailable", error_code=e.code)
            return None
        fresh = self.token_for(district_id)
        return fresh if fresh is not None and fresh != rejected else None

    def _stored(self, row: CleverDistrictRow) -> str | None:
        if not row.token_encrypted:
            return None
        try:
            return self._cipher.decrypt(row.token_encrypted, token_context(row.id))
        except DecryptionError:
            log_event(log, logging.ERROR, "clever district token unreadable", district_id=row.id)
            return None
