"""One delivery attempt: hand a claimed row to its backend, then record the outcome under the lease.

No transaction is open while the backend talks to the remote (that can take a minute);
the claim committed before, and the outcome commits after, guarded by the lease owner,
so a worker that lost its lease (it was presumed dead) cannot overwrite the new owner's work.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from gateway.crypto import DecryptionError
from gateway.ops.logs import log_event
from gateway.store import Database
from gateway.store.models.base import utcnow
from gateway.store.models.writeback import DEAD, DELIVERED, FAILED, QUEUED, OutboxRow
from gateway.store.repositories.outbox import OutboxRepository
from gateway.writeback.backends import Delivery, DeliveryBackend, DeliveryResult, OutcomeRecorder
from gateway.writeback.metrics import WritebackMetrics
from gateway.writeback.outbox import Outbox

log = logging.getLogger("gateway.writeback.attempt")

_DETAIL_CHARS = 500


@dataclass(frozen=True)
class Claim:
    """A claimed row, detached from its session: plain values for the attempt."""

    seq: int
    id: str
    kind: str
    backend: str
    ordering_key: str
    attempts: int
    max_attempts: int
    event_at: dt.datetime | None
    created_at: dt.datetime
    api_key_id: str | None
    payload_encrypted: str
    # The latest event time already delivered for this key and kind, read by the claim (None: nothing yet).
    newest_delivered_event_at: dt.datetime | None = None

    @classmethod
    def of(cls, row: OutboxRow, newest_delivered_event_at: dt.datetime | None = None) -> Claim:
        return cls(
            seq=row.seq, id=row.id, kind=row.kind, backend=row.backend, ordering_key=row.ordering_key,
            attempts=row.attempts, max_attempts=row.max_attempts, event_at=row.event_at,
            created_at=row.created_at, api_key_id=row.api_key_id, payload_encrypted=row.payload_encrypted,
            newest_delivered_event_at=newest_delivered_event_at,
        )


def next_state(claim: Claim, result: DeliveryResult, outbox: Outbox, now: dt.datetime) -> dict[str, Any]:
    """The row's new column values for ``result`` (pure: the rules of retry, failure and death)."""
    values: dict[str, Any] = {"updated_at": now, "last_status": result.status}
    if result.outcome in ("delivered", "skipped"):
        values.update(state=DELIVERED, delivered_at=now, detail=result.error)
    elif result.outcome == "failed":
        values.update(state=FAILED, detail=result.error)
    elif result.outcome == "wait":
        # Nothing was sent: the attempt the claim counted is given back, and no backoff applies.
        wait = min(max(0.0, result.retry_after or 0.0), outbox.policy.retry_after_max_seconds)
        when = now + dt.timedelta(seconds=wait)
        values.update(state=QUEUED, next_attempt_at=when, attempts=max(0, claim.attempts - 1), detail=result.error)
    elif claim.attempts >= claim.max_attempts:
        values.update(state=DEAD, detail=f"{result.error}; out of attempts ({claim.attempts})")
    else:
        when = outbox.policy.next_attempt_at(now, claim.attempts, result.retry_after)
        values.update(state=QUEUED, next_attempt_at=when, detail=f"{result.error}; will retry")
    if values["detail"]:
        values["detail"] = values["detail"][:_DETAIL_CHARS]
    if result.body or result.headers or result.data:
        response = {"body": result.body, "headers": result.headers, "data": result.data}
        values["last_response_encrypted"] = outbox.seal_response(claim.id, response)
    else:
        values["last_response_encrypted"] = None
    return values


class Attempter:
    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        backends: Mapping[str, DeliveryBackend],
        metrics: WritebackMetrics,
        owner: str,
    ) -> None:
        self._db = db
        self._outbox = outbox
        self._backends = backends
        self._metrics = metrics
        self._owner = owner

    def run(self, claim: Claim) -> None:
        """Deliver one claimed row and record what happened. Never raises."""
        backend = self._backends.get(claim.backend)
        delivery, result = self._prepare(claim)
        if result is None and delivery is not None:
            if backend is None:
                result = DeliveryResult.retry(f"no backend named {claim.backend!r} on this worker")
            else:
                result = self._call(backend, delivery)
        assert result is not None  # _prepare gives a delivery or a result
        self._record(claim, delivery, backend, result)

    def _prepare(self, claim: Claim) -> tuple[Delivery | None, DeliveryResult | None]:
        try:
            payload = self._outbox.open_payload(claim.id, claim.payload_encrypted)
        except (DecryptionError, ValueError):
            # Retrying cannot help a payload no configured key opens; an operator must act.
            return None, DeliveryResult.failed("the payload cannot be decrypted with the configured keys")
        delivery = Delivery(
            id=claim.id, kind=claim.kind, backend=claim.backend, ordering_key=claim.ordering_key,
            payload=payload, attempt=claim.attempts, max_attempts=claim.max_attempts, event_at=claim.event_at,
            created_at=claim.created_at, api_key_id=claim.api_key_id,
        )
        newest = claim.newest_delivered_event_at  # read by the claim: no transaction of its own
        if claim.event_at is not None and newest is not None and newest > claim.event_at:
            return delivery, DeliveryResult.skipped(
                f"skipped: a newer {claim.kind} (event time {newest.isoformat()}) was already delivered"
            )
        return delivery, None

    def _call(self, backend: DeliveryBackend, delivery: Delivery) -> DeliveryResult:
        started = time.perf_counter()
        try:
            return backend.deliver(delivery)
        except Exception as e:  # a backend bug must not lose the row: retry it, and say why
            log_event(log, logging.ERROR, "delivery backend raised", exc_info=e, delivery_id=delivery.id)
            return DeliveryResult.retry(f"the {delivery.backend} backend raised {type(e).__name__}")
        finally:
            self._metrics.attempt_seconds.labels(backend=delivery.backend).observe(time.perf_counter() - started)

    def _record(
        self, claim: Claim, delivery: Delivery | None, backend: DeliveryBackend | None, result: DeliveryResult
    ) -> None:
        now = utcnow()
        values = next_state(claim, result, self._outbox, now)
        try:
            with self._db.transaction() as s:
                kept = OutboxRepository(s).finish(
                    seq=claim.seq, owner=self._owner, attempt=claim.attempts, values=values
                )
                if kept and delivery is not None and isinstance(backend, OutcomeRecorder):
                    backend.on_outcome(s, delivery, result)
        except Exception as e:  # the database or the recorder failed: release the row for a retry
            log_event(log, logging.ERROR, "recording a delivery outcome failed", exc_info=e,
                      delivery_id=claim.id)
            self._release_after_error(claim, type(e).__name__)
            return
        outcome: str = result.outcome
        if result.outcome == "retry" and values["state"] == DEAD:
            outcome = "dead"
        if not kept:
            outcome = "lease_lost"
            log_event(log, logging.WARNING, "delivery lease lost before recording", delivery_id=claim.id)
        self._observe(claim, result, outcome, now)

    def _release_after_error(self, claim: Claim, error_type: str) -> None:
        failed = DeliveryResult.retry(f"recording the outcome failed ({error_type})")
        try:
            with self._db.transaction() as s:
                OutboxRepository(s).finish(
                    seq=claim.seq, owner=self._owner, attempt=claim.attempts,
                    values=next_state(claim, failed, self._outbox, utcnow()),
                )
        except SQLAlchemyError:
            # The database is away; the lease will expire and another attempt will be made.
            log_event(log, logging.ERROR, "delivery left to lease expiry", delivery_id=claim.id)

    def _observe(self, claim: Claim, result: DeliveryResult, outcome: str, now: dt.datetime) -> None:
        status = str(result.status) if result.status is not None else "none"
        self._metrics.outcomes.labels(backend=claim.backend, kind=claim.kind, outcome=outcome, status=status).inc()
        if outcome in ("delivered", "skipped"):
            self._metrics.latency.labels(backend=claim.backend, kind=claim.kind).observe(
                max(0.0, (now - claim.created_at).total_seconds())
            )
        if outcome in ("delivered", "skipped", "failed", "dead"):
            state = "delivered" if outcome == "skipped" else outcome
            self._metrics.attempts.labels(backend=claim.backend, state=state).observe(claim.attempts)
        log_event(
            log, logging.INFO if outcome in ("delivered", "skipped", "wait") else logging.WARNING,
            "delivery waiting" if outcome == "wait" else "delivery attempt",
            delivery_id=claim.id, backend=claim.backend, kind=claim.kind, outcome=outcome,
            attempt=claim.attempts, remote_status=result.status,
        )
