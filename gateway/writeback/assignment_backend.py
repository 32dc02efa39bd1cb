"""What the AGS and Clever LMS Connect backends share: the steps before anything is sent.

A backend only says how to reach its remote (:meth:`AssignmentBackend._target`) and how to send each kind.
This base loads the target once in a short transaction, then runs the shared preamble: a creation already
delivered is not sent again, an update of an assignment never created is refused, and a grade is skipped
when a newer one was delivered or held back until its assignment exists remotely.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Generic, Protocol, TypeVar

from sqlalchemy.orm import Session

import gateway.writeback.assignment_state as st
from gateway.store import Database
from gateway.writeback.backend_metrics import BackendMetrics
from gateway.writeback.backends import Delivery, DeliveryResult


class Target(Protocol):
    """Whatever a backend needs to reach its remote, with the assignment as the database holds it."""

    @property
    def state(self) -> st.AssignmentState: ...


T = TypeVar("T", bound=Target)


def subject_of(delivery: Delivery) -> str | None:
    """The student a grade is for (None for assignment changes)."""
    subject = delivery.payload.get("subject") if delivery.kind == st.GRADE else None
    return subject if isinstance(subject, str) else None


def load_state(session: Session, delivery: Delivery) -> st.AssignmentState | None:
    """The delivery's assignment (with the student's newest delivered grade, for a grade)."""
    return st.load(session, str(delivery.payload.get("assignment_id")), subject_of(delivery))


class AssignmentBackend(Generic[T]):
    """A delivery backend for assignment create/update/delete and grades; subclasses say how to reach the remote."""

    name: ClassVar[str]

    def __init__(self, db: Database, metrics: BackendMetrics, *, wait_seconds: float) -> None:
        self._db = db
        self._metrics = metrics
        self._wait = wait_seconds

    def deliver(self, delivery: Delivery) -> DeliveryResult:
        handlers: dict[str, Callable[[Delivery, T], DeliveryResult]] = {
            st.CREATE: self._create, st.UPDATE: self._update, st.DELETE: self._delete, st.GRADE: self._grade,
        }
        handler = handlers.get(delivery.kind)
        if handler is None:
            return DeliveryResult.failed(f"the {self.name} backend does not deliver {delivery.kind!r}")
        with self._db.transaction() as s:
            target = self._target(s, delivery)
        if isinstance(target, DeliveryResult):
            return target
        answered = self._preamble(delivery, target.state)
        return answered if answered is not None else handler(delivery, target)

    def _preamble(self, delivery: Delivery, state: st.AssignmentState) -> DeliveryResult | None:
        """An answer without sending anything, or None to send."""
        if delivery.kind == st.CREATE and state.created:
            return DeliveryResult.delivered(data={"remote_id": state.remote_id, **state.remote_detail})
        if delivery.kind == st.UPDATE:
            return st.never_created(state)
        if delivery.kind == st.GRADE:
            skipped = st.superseded(state, delivery)
            if skipped is not None:
                self._metrics.waits.labels(backend=self.name, reason="superseded").inc()
                return skipped
            waiting = st.await_remote(state, wait_seconds=self._wait, waiting_since=delivery.created_at)
            if waiting is not None:
                self._metrics.waits.labels(backend=self.name, reason=f"assignment_{waiting.outcome}").inc()
                return waiting
        return None

    def on_outcome(self, session: Session, delivery: Delivery, result: DeliveryResult) -> None:
        st.record_outcome(session, delivery, result)

    def _target(self, s: Session, delivery: Delivery) -> T | DeliveryResult:
        raise NotImplementedError

    def _create(self, delivery: Delivery, target: T) -> DeliveryResult:
        raise NotImplementedError

    def _update(self, delivery: Delivery, target: T) -> DeliveryResult:
        """Called only for an assignment created remotely (``state.remote_id`` is set)."""
        raise NotImplementedError

    def _delete(self, delivery: Delivery, target: T) -> DeliveryResult:
        raise NotImplementedError

    def _grade(self, delivery: Delivery, target: T) -> DeliveryResult:
        """Called only when the grade is the newest and its assignment exists remotely."""
        raise NotImplementedError
