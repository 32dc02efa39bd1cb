"""What both delivery backends need to know about an assignment before they send, and what they keep after.

Grades and assignment changes travel under different ordering keys (a grade per assignment and student,
``grade:<asg>:<subject>``; an assignment's changes under ``assignment:<asg>``), so grades for different
students go out in parallel. The price: a grade may be claimed before its assignment exists remotely.
:func:`await_remote` answers that with a *wait* timed to the assignment's own next attempt (no attempt spent,
no retry logged), or a *failure* when its creation failed for good (replay the creation, then the grade) or the
wait outlasted ``MAX_WAIT``. Outcomes are written
by :func:`record_outcome` in the transaction that records the delivery's new state.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy.orm import Session

from gateway.ops.logs import log_event
from gateway.store.models.base import utcnow
from gateway.store.models.writeback import DEAD, DELIVERED, FAILED, QUEUED
from gateway.store.models.writeback_assignments import CREATED, DELETED, PENDING
from gateway.store.models.writeback_assignments import FAILED as REMOTE_FAILED
from gateway.store.repositories.assignments import AssignmentRepository, GradeStateRepository
from gateway.store.repositories.outbox import OutboxRepository
from gateway.writeback.backends import Delivery, DeliveryResult

log = logging.getLogger("gateway.writeback.assignments")

CREATE: Final = "assignment.create"
UPDATE: Final = "assignment.update"
DELETE: Final = "assignment.delete"
GRADE: Final = "grade"
KINDS: Final = (CREATE, UPDATE, DELETE, GRADE)
# How long a grade waits for its assignment's creation (waiting spends no attempt) before it fails instead.
MAX_WAIT: Final = dt.timedelta(days=2)


def assignment_key(assignment_id: str) -> str:
    return f"assignment:{assignment_id}"


def grade_key(assignment_id: str, subject: str) -> str:
    return f"grade:{assignment_id}:{subject}"


@dataclass(frozen=True)
class AssignmentState:
    """An assignment as the database holds it now, with its creation's delivery state."""

    id: str
    context_id: str
    remote_id: str | None
    remote_state: str
    remote_detail: dict[str, Any]
    deleted: bool
    points_possible: float
    lti_context_ref: str | None
    clever_section_id: str | None
    clever_district_id: str | None
    create_state: str | None
    create_next_attempt_at: dt.datetime | None
    newest_grade_at: dt.datetime | None = None

    @property
    def created(self) -> bool:
        return self.remote_state == CREATED and self.remote_id is not None


def load(session: Session, assignment_id: str, subject: str | None = None) -> AssignmentState | None:
    row = AssignmentRepository(session).get(assignment_id)
    if row is None:
        return None
    create = OutboxRepository(session).get(row.create_delivery_id) if row.create_delivery_id else None
    # Read the assignment again *after* its creation's delivery: on PostgreSQL each statement sees what was
    # committed when it began, and the creation's outcome and the remote id commit together, so a creation
    # seen delivered here is always seen with its remote id.
    session.refresh(row)
    newest = GradeStateRepository(session).newest_delivered(assignment_id, subject) if subject else None
    return AssignmentState(
        id=row.id, context_id=row.context_id, remote_id=row.remote_id, remote_state=row.remote_state,
        remote_detail=dict(row.remote_detail or {}), deleted=row.deleted_at is not None,
        points_possible=row.points_possible, lti_context_ref=row.lti_context_ref,
        clever_section_id=row.clever_section_id, clever_district_id=row.clever_district_id,
        create_state=create.state if create is not None else None,
        create_next_attempt_at=create.next_attempt_at if create is not None else None,
        newest_grade_at=newest,
    )


def superseded(state: AssignmentState, delivery: Delivery) -> DeliveryResult | None:
    """Skip a grade older than one already delivered for this student (kept beyond the outbox's retention)."""
    newest, event_at = state.newest_grade_at, delivery.event_at
    if newest is not None and event_at is not None and event_at < newest:
        return DeliveryResult.skipped(
            f"skipped: a newer grade (event time {newest.isoformat()}) was already delivered"
        )
    return None


def await_remote(
    state: AssignmentState, *, wait_seconds: float, now: dt.datetime | None = None,
    waiting_since: dt.datetime | None = None,
) -> DeliveryResult | None:
    """None when the assignment exists remotely; else why a grade for it cannot go yet (wait) or ever (failed).

    Waiting spends no attempt (nothing is sent); its own bound is ``MAX_WAIT`` from ``waiting_since`` (the grade's
    acceptance), after which the grade fails with the reason instead of waiting on."""
    if state.deleted or state.remote_state == DELETED:
        return DeliveryResult.failed("the assignment was deleted; its grades are not sent")
    if state.created:
        return None
    if state.remote_state == REMOTE_FAILED or state.create_state in (FAILED, DEAD):
        return DeliveryResult.failed(
            "the assignment was never created remotely (its creation failed); replay the assignment's "
            "creation, then this grade"
        )
    if state.create_state == DELIVERED:
        # Delivered without a remote id: the creation adopted nothing it could grade into.
        return DeliveryResult.failed("the assignment has no remote copy to grade into")
    now = now or utcnow()
    if waiting_since is not None and now - waiting_since > MAX_WAIT:
        return DeliveryResult.failed(
            f"the assignment was still not created remotely after {MAX_WAIT.days} days of waiting; replay this "
            "grade once it is")
    wait = wait_seconds
    if state.create_state == QUEUED and state.create_next_attempt_at is not None:
        wait = max(wait, (state.create_next_attempt_at - now).total_seconds() + wait_seconds)
    return DeliveryResult.wait("waiting for the assignment to be created remotely", retry_after=wait)


def never_created(state: AssignmentState) -> DeliveryResult | None:
    """For an update or delete (ordered after the creation): the creation's outcome, if there is nothing to change."""
    if state.created:
        return None
    return DeliveryResult.failed("the assignment was never created remotely (its creation failed); replay the "
                                 "assignment's creation first")


def record_outcome(session: Session, delivery: Delivery, result: DeliveryResult) -> None:
    """Keep what a delivery learned, in the transaction that records its outcome. Idempotent."""
    assignment_id = delivery.payload.get("assignment_id")
    if not isinstance(assignment_id, str):
        return
    now = utcnow()
    data = result.data or {}
    repo = AssignmentRepository(session)
    dead = result.outcome == "retry" and delivery.attempt >= delivery.max_attempts
    if delivery.kind == CREATE:
        if result.outcome == "delivered" and isinstance(data.get("remote_id"), str):
            detail = {k: v for k, v in data.items() if k != "remote_id"}
            repo.record_remote(assignment_id, remote_id=data["remote_id"], remote_state=CREATED, detail=detail,
                               now=now)
        elif result.outcome == "failed" or dead:
            # A create whose answer was lost may exist remotely all the same: the assignment says so.
            maybe: dict[str, object] | None = {"possibly_created": True} if data.get("possibly_applied") is True \
                else None
            repo.record_remote(assignment_id, remote_id=None, remote_state=REMOTE_FAILED, detail=maybe, now=now)
    elif delivery.kind == DELETE and result.outcome == "delivered":
        repo.record_remote(assignment_id, remote_id=None, remote_state=DELETED, detail=None, now=now)
    elif delivery.kind == GRADE and result.outcome == "delivered":
        subject = delivery.payload.get("subject")
        if isinstance(subject, str):
            GradeStateRepository(session).delivered(assignment_id, subject, delivery.event_at, delivery.id, now)
    if dead:
        log_event(log, logging.WARNING, "writeback delivery out of attempts", delivery_id=delivery.id,
                  kind=delivery.kind)


__all__ = ["MAX_WAIT", "PENDING", "AssignmentState", "assignment_key", "await_remote", "grade_key", "load",
           "never_created", "record_outcome", "superseded"]
