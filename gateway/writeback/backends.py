"""The delivery-backend seam: what a worker hands a backend, and what the backend must answer.

A backend (``ags``, ``clever``, ...) is registered by name in
``Services.delivery_backends``. The worker gives it one :class:`Delivery` at a time,
outside any database transaction, and records the :class:`DeliveryResult` it returns.
Backends do not touch the outbox; they say what happened, and the worker decides the
row's next state. A backend that must store something in the same transaction as the
outcome (the remote id of a created line item) also implements :class:`OutcomeRecorder`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from sqlalchemy.orm import Session

Outcome = Literal["delivered", "retry", "failed", "skipped", "wait"]

# Remote bodies are kept for operators to read, not whole: enough to see the error.
MAX_BODY_CHARS = 4000


@dataclass(frozen=True)
class Delivery:
    """One attempt at one outbox row, as a backend sees it."""

    id: str
    kind: str
    backend: str
    ordering_key: str
    payload: dict[str, Any]
    attempt: int  # 1 for the first attempt
    max_attempts: int
    event_at: dt.datetime | None
    created_at: dt.datetime
    api_key_id: str | None


@dataclass(frozen=True)
class DeliveryResult:
    """What a backend says about one attempt.

    ``delivered``: the remote took it. ``retry``: try again later (``retry_after`` seconds
    at the earliest, when the remote said so). ``failed``: the remote refused it for good;
    the row stops at once. ``skipped``: nothing was sent because it would overwrite newer
    data; the row counts as delivered. ``wait``: nothing was sent because something it depends on
    is not there yet (a grade's assignment being created, a rate limit holding the call); the row
    looks again after ``retry_after`` seconds and the attempt does not count (waiting is a state, not
    a retry). ``status``/``body``/``headers`` keep the remote's answer for operators; ``error`` is the
    gateway's own short description; ``data`` is what the remote made (its ids), passed to
    :class:`OutcomeRecorder` and shown in the delivery status.
    """

    outcome: Outcome
    status: int | None = None
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: float | None = None
    error: str | None = None
    data: dict[str, Any] | None = None

    @classmethod
    def delivered(cls, **kwargs: Any) -> DeliveryResult:
        return cls("delivered", **kwargs)

    @classmethod
    def retry(cls, error: str, **kwargs: Any) -> DeliveryResult:
        return cls("retry", error=error, **kwargs)

    @classmethod
    def failed(cls, error: str, **kwargs: Any) -> DeliveryResult:
        return cls("failed", error=error, **kwargs)

    @classmethod
    def skipped(cls, error: str) -> DeliveryResult:
        return cls("skipped", error=error)

    @classmethod
    def wait(cls, error: str, *, retry_after: float) -> DeliveryResult:
        return cls("wait", error=error, retry_after=retry_after)


@runtime_checkable
class DeliveryBackend(Protocol):
    """Sends one delivery to its remote system. Must not raise for remote failures: return a result.

    Use :func:`gateway.writeback.classify.classify_response` and
    :func:`~gateway.writeback.classify.classify_outbound_error` so every backend retries
    the same answers. An exception escaping ``deliver`` is treated as ``retry``.
    """

    def deliver(self, delivery: Delivery) -> DeliveryResult: ...


@runtime_checkable
class OutcomeRecorder(Protocol):
    """Optional: called in the transaction that records the row's new state (only while the lease holds).

    Raising here rolls the outcome back; the row is then retried, so keep it idempotent.
    """

    def on_outcome(self, session: Session, delivery: Delivery, result: DeliveryResult) -> None: ...
