"""The outbox service: enqueue in the caller's transaction; read, list and replay deliveries.

A grades or assignments service changes its own rows and calls :meth:`Outbox.enqueue`
with the **same** ``Session``, so the change and its delivery commit together or not at
all (STYLE habit 9). Payloads and remote answers are encrypted at rest: a grade's comment
is personal data.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy.orm import Session

from gateway.api.cursor import Cursor
from gateway.crypto import Cipher
from gateway.settings import Settings
from gateway.store import Database
from gateway.store.models.base import iso, new_id, utcnow
from gateway.store.models.writeback import QUEUED, REPLAYABLE, OutboxRow
from gateway.store.repositories.audit import AuditRepository
from gateway.store.repositories.outbox import OutboxRepository
from gateway.writeback.assignment_state import assignment_key, grade_key
from gateway.writeback.config import WritebackConfig
from gateway.writeback.errors import DeliveryNotFound, DeliveryNotReplayable
from gateway.writeback.metrics import WritebackMetrics
from gateway.writeback.retry import RetryPolicy

_LIMITS = {"kind": 50, "backend": 30, "ordering_key": 300}


@dataclass(frozen=True)
class OutboxItem:
    """One delivery to enqueue. ``ordering_key`` rows go out strictly one after another, in enqueue order.

    ``event_at``: for grades, the vendor's event time or the accepted time; a row older than
    one already delivered for the same key and kind is skipped, not sent.
    """

    kind: str
    backend: str
    ordering_key: str
    payload: dict[str, Any]
    api_key_id: str | None = None
    event_at: dt.datetime | None = None
    not_before: dt.datetime | None = None


@dataclass(frozen=True)
class Enqueued:
    id: str
    state: str
    created_at: dt.datetime


def payload_context(delivery_id: str) -> str:
    return f"outbox.payload:{delivery_id}"


def response_context(delivery_id: str) -> str:
    return f"outbox.response:{delivery_id}"


DELIVERIES = Cursor("writeback.deliveries", (int,))  # (seq,)


class Outbox:
    def __init__(self, db: Database, cipher: Cipher, policy: RetryPolicy, metrics: WritebackMetrics) -> None:
        self._db = db
        self._cipher = cipher
        self.policy = policy
        self.metrics = metrics

    # -- enqueue (in the caller's transaction) --------------------------------------------------

    def enqueue(self, session: Session, item: OutboxItem) -> Enqueued:
        return self.enqueue_many(session, [item])[0]

    def enqueue_many(self, session: Session, items: Sequence[OutboxItem]) -> list[Enqueued]:
        """Add rows in ``session``'s transaction; they become visible to workers when it commits."""
        now = utcnow()
        rows = [self._row(item, now) for item in items]
        OutboxRepository(session).add(rows)
        return [Enqueued(row["id"], row["state"], row["created_at"]) for row in rows]

    def _row(self, item: OutboxItem, now: dt.datetime) -> dict[str, Any]:
        """The new row's column values (inserted in bulk: a batch of grades is one statement, not one a row)."""
        for name, limit in _LIMITS.items():
            value = getattr(item, name)
            if not value or len(value) > limit:
                raise ValueError(f"outbox {name} must be 1..{limit} characters, got {value!r}")
        delivery_id = new_id("dlv")
        # allow_nan=False: NaN is not JSON, and no remote should receive it as a score.
        sealed = self._cipher.encrypt(json.dumps(item.payload, allow_nan=False), payload_context(delivery_id))
        return {
            "id": delivery_id,
            "kind": item.kind,
            "backend": item.backend,
            "ordering_key": item.ordering_key,
            "payload_encrypted": sealed,
            "state": QUEUED,
            "attempts": 0,
            "max_attempts": self.policy.max_attempts,
            "next_attempt_at": item.not_before or now,
            "event_at": item.event_at,
            "api_key_id": item.api_key_id,
            "created_at": now,
            "updated_at": now,
        }

    # -- decoding ----------------------------------------------------------------------------------

    def payload(self, row: OutboxRow) -> dict[str, Any]:
        return self.open_payload(row.id, row.payload_encrypted)

    def open_payload(self, delivery_id: str, sealed: str) -> dict[str, Any]:
        """Decrypt a payload. Raises DecryptionError (no key opens it) or ValueError (not JSON)."""
        decoded: dict[str, Any] = json.loads(self._cipher.decrypt(sealed, payload_context(delivery_id)))
        return decoded

    def seal_response(self, delivery_id: str, response: dict[str, Any]) -> str:
        return self._cipher.encrypt(json.dumps(response, default=str), response_context(delivery_id))

    def _response(self, row: OutboxRow) -> dict[str, Any]:
        if not row.last_response_encrypted:
            return {}
        opened: dict[str, Any] = json.loads(
            self._cipher.decrypt(row.last_response_encrypted, response_context(row.id))
        )
        return opened

    def document(self, row: OutboxRow) -> dict[str, Any]:
        """The vendor-facing view of a delivery (``Delivery`` in openapi.yaml)."""
        response = self._response(row)
        remote = None
        if row.last_status is not None or response.get("body") or response.get("headers"):
            remote = {
                "status": row.last_status,
                "body": response.get("body"),
                "headers": response.get("headers") or {},
            }
        return {
            "id": row.id,
            "kind": row.kind,
            "backend": row.backend,
            "ordering_key": row.ordering_key,
            "state": row.state,
            "attempts": row.attempts,
            "max_attempts": row.max_attempts,
            "next_attempt_at": iso(row.next_attempt_at) if row.state == QUEUED else None,
            "event_at": iso(row.event_at),
            "created_at": iso(row.created_at),
            "updated_at": iso(row.updated_at),
            "last_attempt_at": iso(row.last_attempt_at),
            "delivered_at": iso(row.delivered_at),
            "detail": row.detail,
            "remote": remote,
            "result": response.get("data"),
        }

    # -- reading (scope: an API key id, or None for every key) -------------------------------------

    @staticmethod
    def _delivery(session: Session, delivery_id: str, *, scope: str | None) -> OutboxRow:
        row = OutboxRepository(session).get(delivery_id)
        if row is None or (scope is not None and row.api_key_id != scope):
            raise DeliveryNotFound()
        return row

    def get(self, delivery_id: str, *, scope: str | None) -> dict[str, Any]:
        with self._db.transaction() as s:
            return self.document(self._delivery(s, delivery_id, scope=scope))

    def page(
        self,
        *,
        scope: str | None,
        state: str | None = None,
        backend: str | None = None,
        kind: str | None = None,
        assignments: Sequence[str] | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of deliveries, oldest first, and the cursor of the next page (None at the end).

        ``assignments`` (assignment ids): only their own deliveries and their grades' (an empty list: none)."""
        if assignments is not None and not assignments:
            return [], None
        key = DELIVERIES.decode(cursor)
        after = int(key[0]) if key is not None else 0
        with self._db.transaction() as s:
            rows = OutboxRepository(s).page(
                api_key_id=scope, states=[state] if state else [], backend=backend, kind=kind,
                ordering_keys=[assignment_key(a) for a in assignments or ()],
                ordering_prefixes=[grade_key(a, "") for a in assignments or ()],
                after_seq=after, limit=limit + 1,
            )
            documents = [self.document(row) for row in rows[:limit]]
            next_cursor = DELIVERIES.encode(rows[limit - 1].seq) if len(rows) > limit else None
        return documents, next_cursor

    # -- replay --------------------------------------------------------------------------------------

    def replay_one(self, session: Session, delivery_id: str, *, scope: str | None, actor: str) -> dict[str, Any]:
        report = self.replay(session, [delivery_id], scope=scope, actor=actor)
        if report["not_found"]:
            raise DeliveryNotFound()
        if report["not_replayable"]:
            state = report["not_replayable"][0]["state"]
            raise DeliveryNotReplayable(f"The delivery is {state}.", extra={"state": state})
        return self.document(self._delivery(session, delivery_id, scope=None))

    def replay(self, session: Session, ids: Sequence[str], *, scope: str | None, actor: str) -> dict[str, Any]:
        """Requeue failed/dead rows by id with attempts reset; audit-logged. Unknown ids are reported."""
        repo = OutboxRepository(session)
        found = {row.id: row for row in repo.for_replay(list(dict.fromkeys(ids)), scope)}
        report: dict[str, Any] = {"replayed": [], "not_replayable": [], "not_found": []}
        now = utcnow()
        for delivery_id in dict.fromkeys(ids):
            row = found.get(delivery_id)
            if row is None:
                report["not_found"].append(delivery_id)
                continue
            was, attempts = row.state, row.attempts  # the requeue below refreshes the row in the session
            if was not in REPLAYABLE or not repo.requeue(row.seq, REPLAYABLE, now):
                report["not_replayable"].append({"id": delivery_id, "state": was})
            else:
                AuditRepository(session).record(
                    actor, "delivery.replay", f"delivery:{delivery_id}", from_state=was, attempts=attempts
                )
                report["replayed"].append(delivery_id)
        session.flush()
        session.expire_all()
        return report

    def replay_state(
        self, session: Session, state: str, *, scope: str | None, actor: str, limit: int
    ) -> dict[str, Any]:
        """Requeue up to ``limit`` rows in ``state`` (``failed`` or ``dead``), oldest first."""
        if state not in REPLAYABLE:
            raise DeliveryNotReplayable(f"Rows in state {state!r} cannot be replayed.", extra={"state": state})
        rows = OutboxRepository(session).page(api_key_id=scope, states=[state], limit=limit + 1)
        report = self.replay(session, [row.id for row in rows[:limit]], scope=scope, actor=actor)
        report["more"] = len(rows) > limit
        return report


def build_outbox(db: Database, cipher: Cipher, settings: Settings, registry: CollectorRegistry) -> Outbox:
    """The composition root's one call; checks every writeback setting so a bad value stops start-up."""
    return Outbox(db, cipher, WritebackConfig.from_settings(settings).retry, WritebackMetrics(registry, db))
