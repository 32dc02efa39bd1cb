"""What the AGS and Clever LMS Connect backends share: route a delivery by its kind to a handler, after
loading the remote target once in a short transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Generic, TypeVar

from sqlalchemy.orm import Session

from gateway.store import Database
from gateway.writeback import assignment_state as st
from gateway.writeback.backends import Delivery, DeliveryResult

T = TypeVar("T")


class AssignmentBackend(Generic[T]):
    """A delivery backend for assignment create/update/delete and grades; subclasses say how to reach the remote."""

    name: ClassVar[str]

    def __init__(self, db: Database) -> None:
        self._db = db

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
        return handler(delivery, target)

    def on_outcome(self, session: Session, delivery: Delivery, result: DeliveryResult) -> None:
        st.record_outcome(session, delivery, result)

    def _target(self, s: Session, delivery: Delivery) -> T | DeliveryResult:
        raise NotImplementedError

    def _create(self, delivery: Delivery, target: T) -> DeliveryResult:
        raise NotImplementedError

    def _update(self, delivery: Delivery, target: T) -> DeliveryResult:
        raise NotImplementedError

    def _delete(self, delivery: Delivery, target: T) -> DeliveryResult:
        raise NotImplementedError

    def _grade(self, delivery: Delivery, target: T) -> DeliveryResult:
        raise NotImplementedError
