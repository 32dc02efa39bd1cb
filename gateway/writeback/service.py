"""Assignments and grades: validate, change the gateway's own rows, and enqueue the delivery, in one transaction.

Flask-free: every method takes the request's ``Session`` (the views pass the idempotency unit of work) and
plain values, and returns the vendor-facing document. The outbox row is written in the same transaction as
the assignment it announces (STYLE habit 9); a refusal raises before anything is written.

Ordering keys: an assignment's create, updates and delete share ``assignment:<asg>``; each student's grades
on it share ``grade:<asg>:<subject>``. Grades of different students go out in parallel; a grade claimed
before its assignment exists remotely is retried until it does (see :mod:`gateway.writeback.assignment_state`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import gateway.writeback.assignment_state as st
import gateway.writeback.clever_lms as clever_lms
import gateway.writeback.validation as validation
from gateway.api.cursor import Cursor
from gateway.errors import GatewayError, ValidationFailed
from gateway.lti import ags
from gateway.store import Database
from gateway.store.models.base import iso, new_id
from gateway.store.models.writeback_assignments import FAILED, WritebackAssignmentRow
from gateway.store.repositories.assignments import AssignmentRepository
from gateway.store.repositories.assignments_contexts import WritebackLookup
from gateway.store.repositories.audit import AuditRepository
from gateway.writeback.backends import DeliveryBackend
from gateway.writeback.contexts import AGS, ResolvedContext, resolve
from gateway.writeback.outbox import Enqueued, Outbox, OutboxItem
from gateway.writeback.people import People, Person
from gateway.writeback.refusals import (
    AssignmentDeleted,
    AssignmentNotFound,
    CapabilityUnavailable,
    ResourceLinkNotInContext,
    VendorIdTaken,
    field_errors,
)
from gateway.writeback.roster import Roster

EXT_PREFIX = "ext:"
_NO_SCOPE = {"code": "AGS_LINEITEM_SCOPE_MISSING",
             "message": "The platform granted no line-item scope (`lineitem`), so the gateway cannot make line items."}


def assignment_document(row: WritebackAssignmentRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "context_id": row.context_id,
        "vendor_id": row.vendor_id if row.vendor_id is not None else row.deleted_vendor_id,
        "title": row.title,
        "description": row.description,
        "points_possible": row.points_possible,
        "due_date": iso(row.due_at),
        "resource_link_id": row.resource_link_ref,
        "tag": row.tag,
        "backend": row.backend,
        "remote": {"state": row.remote_state, "id": row.remote_id, "detail": dict(row.remote_detail or {})},
        "last_delivery_id": row.last_delivery_id,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "deleted_at": iso(row.deleted_at),
    }


def _delivery(made: Enqueued, kind: str) -> dict[str, Any]:
    return {"id": made.id, "kind": kind, "state": made.state}


def _refusal(error: GatewayError) -> dict[str, Any]:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if "errors" in error.extra:
        body["errors"] = error.extra["errors"]
    return body


ASSIGNMENTS = Cursor("writeback.assignments", (dt.datetime, str))  # (created_at, id)


class BatchRejected(ValidationFailed):
    code = "BATCH_REJECTED"
    title = "No grade in the batch was accepted"
    default_hint = "Each item's `error` says why; fix them and send the batch again."


class WritebackService:
    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    # -- contexts -------------------------------------------------------------------------------------------

    def context(self, s: Session, context_id: str) -> dict[str, Any]:
        return resolve(s, context_id).document()

    # -- assignments ----------------------------------------------------------------------------------------

    def _assignment(self, s: Session, context: ResolvedContext, ref: str) -> WritebackAssignmentRow:
        repo = AssignmentRepository(s)
        if ref.startswith(EXT_PREFIX):
            row = repo.by_vendor_id(context.id, ref.removeprefix(EXT_PREFIX))
        else:
            row = repo.get(ref)
        if row is None or row.context_id != context.id:
            raise AssignmentNotFound(f"There is no assignment {ref[:120]!r} in {context.id}.")
        return row

    def _live(self, s: Session, context: ResolvedContext, ref: str) -> WritebackAssignmentRow:
        row = self._assignment(s, context, ref)
        if row.deleted_at is not None:
            raise AssignmentDeleted(f"Assignment {row.id} was deleted at {iso(row.deleted_at)}.")
        return row

    def _payload(self, s: Session, context: ResolvedContext, row: WritebackAssignmentRow) -> dict[str, Any]:
        base: dict[str, Any] = {"assignment_id": row.id, "context_id": context.id}
        if context.backend == AGS:
            link = WritebackLookup(s).resource_link(row.resource_link_ref) if row.resource_link_ref else None
            base["line_item"] = ags.line_item(
                assignment_id=row.id, title=row.title, points=row.points_possible, tag=row.tag,
                resource_link_lms_id=link.resource_link_id if link is not None else None, due_at=row.due_at)
            base["coupled_line_item"] = link.ags_lineitem_url if link is not None else None
        else:
            base["section_id"], base["district_id"] = row.clever_section_id, row.clever_district_id
            base["draft"] = clever_lms.draft(title=row.title, description=row.description, points=row.points_possible,
                                             due_at=row.due_at)
        return base

    def _enqueue(self, s: Session, context: ResolvedContext, row: WritebackAssignmentRow, kind: str,
                 payload: dict[str, Any], api_key_id: str | None) -> Enqueued:
        made = self._outbox.enqueue(s, OutboxItem(kind=kind, backend=context.backend,
                                                  ordering_key=st.assignment_key(row.id), payload=payload,
                                                  api_key_id=api_key_id))
        row.last_delivery_id = made.id
        return made

    def _resource_link(self, s: Session, context: ResolvedContext, link_ref: str | None) -> str | None:
        """The placement's coupled line item URL (None if it has none); refuses a link of another course."""
        if link_ref is None:
            if context.kind == "lti" and not context.manages_line_items:
                raise CapabilityUnavailable(
                    "The platform granted no line-item scope here: name a `resource_link_id` whose placement has "
                    "its own line item.", extra={"capability": "create_assignments", "reasons": [_NO_SCOPE]})
            return None
        if context.kind != "lti":
            raise ValidationFailed("`resource_link_id` applies to LTI courses only.",
                                   extra=field_errors("resource_link_id", "applies to LTI courses only"))
        link = WritebackLookup(s).resource_link(link_ref)
        if link is None or link.context_ref != context.id:
            raise ResourceLinkNotInContext(f"{link_ref[:60]!r} is not a placement in {context.id}.")
        if link.ags_lineitem_url is None and not context.manages_line_items:
            raise CapabilityUnavailable(
                "This placement has no line item of its own and the platform granted no line-item scope.",
                extra={"capability": "create_assignments", "reasons": [_NO_SCOPE]})
        return link.ags_lineitem_url

    def create_assignment(self, s: Session, context_id: str, body: Any, *, api_key_id: str | None,
                          actor: str, now: dt.datetime) -> dict[str, Any]:
        context = resolve(s, context_id)
        fields = validation.assignment_create(body)
        context.require("create_assignments")
        self._resource_link(s, context, fields.resource_link_id)
        repo = AssignmentRepository(s)
        if fields.vendor_id is not None and repo.by_vendor_id(context.id, fields.vendor_id) is not None:
            raise VendorIdTaken(f"{context.id} already has an assignment with vendor id {fields.vendor_id[:80]!r}.")
        row = WritebackAssignmentRow(
            id=new_id("asg"), context_id=context.id, backend=context.backend,
            lti_context_ref=context.lti_context_ref, resource_link_ref=fields.resource_link_id,
            clever_section_id=context.section_id, clever_district_id=context.district_id,
            vendor_id=fields.vendor_id, title=fields.title, description=fields.description,
            points_possible=fields.points_possible, due_at=fields.due_at, tag=fields.tag, remote_state="pending",
            remote_detail={}, api_key_id=api_key_id, created_at=now, updated_at=now,
        )
        try:
            repo.add(row)
        except IntegrityError as e:  # a concurrent create took the vendor id first
            raise VendorIdTaken(f"{context.id} already has an assignment with this vendor id.") from e
        made = self._enqueue(s, context, row, st.CREATE, self._payload(s, context, row), api_key_id)
        row.create_delivery_id = made.id
        AuditRepository(s).record(actor, "assignment.create", f"assignment:{row.id}", context=context.id,
                                  delivery=made.id)
        return {"assignment": assignment_document(row), "delivery": _delivery(made, st.CREATE),
                "warnings": [n.document() for n in context.notes]}

    def get_assignment(self, s: Session, context_id: str, ref: str) -> dict[str, Any]:
        return assignment_document(self._assignment(s, resolve(s, context_id), ref))

    def list_assignments(self, s: Session, context_id: str, *, cursor: str | None, limit: int,
                         include_deleted: bool) -> tuple[list[dict[str, Any]], str | None]:
        context = resolve(s, context_id)
        rows = AssignmentRepository(s).page(context.id, after=ASSIGNMENTS.decode(cursor), limit=limit + 1,
                                            include_deleted=include_deleted)
        next_cursor = ASSIGNMENTS.encode(rows[limit - 1].created_at, rows[limit - 1].id) if len(rows) > limit else None
        return [assignment_document(r) for r in rows[:limit]], next_cursor

    def update_assignment(self, s: Session, context_id: str, ref: str, body: Any, *, api_key_id: str | None,
                          actor: str, now: dt.datetime) -> dict[str, Any]:
        context = resolve(s, context_id)
        row = self._live(s, context, ref)
        changes = validation.assignment_changes(body)
        context.require("create_assignments")
        for name, value in changes.items():
            setattr(row, name, value)
        row.updated_at = now
        # What the vendor asked to change: a line item the LMS owns gets only these fields (gateway.writeback.ags).
        payload = {**self._payload(s, context, row), "changed": sorted(changes)}
        made = self._enqueue(s, context, row, st.UPDATE, payload, api_key_id)
        AuditRepository(s).record(actor, "assignment.update", f"assignment:{row.id}", fields=sorted(changes),
                                  delivery=made.id)
        return {"assignment": assignment_document(row), "delivery": _delivery(made, st.UPDATE),
                "warnings": [n.document() for n in context.notes]}

    def delete_assignment(self, s: Session, context_id: str, ref: str, *, api_key_id: str | None, actor: str,
                          now: dt.datetime) -> dict[str, Any]:
        context = resolve(s, context_id)
        row = self._live(s, context, ref)
        row.deleted_at, row.updated_at = now, now
        row.deleted_vendor_id, row.vendor_id = row.vendor_id, None
        s.flush()
        made = self._enqueue(s, context, row, st.DELETE, {"assignment_id": row.id, "context_id": context.id},
                             api_key_id)
        AuditRepository(s).record(actor, "assignment.delete", f"assignment:{row.id}", delivery=made.id)
        return {"assignment": assignment_document(row), "delivery": _delivery(made, st.DELETE), "warnings": []}

    # -- grades ---------------------------------------------------------------------------------------------

    def _grade_fields(self, context: ResolvedContext, body: Any, now: dt.datetime, prefix: str = "",
                      extra: tuple[str, ...] = ()) -> validation.GradeFields:
        fields = validation.grade(body, now=now, prefix=prefix, extra_fields=extra)
        if context.backend != AGS and fields.score_given is None and fields.grade is None:
            raise validation.invalid(prefix + "score_given", "Clever LMS Connect records grades, not progress: "
                                     "send `score_given` (with `score_maximum`) or `grade`.")
        return fields

    def _grade_item(self, context: ResolvedContext, row: WritebackAssignmentRow, person: Person,
                    fields: validation.GradeFields, api_key_id: str | None, now: dt.datetime) -> OutboxItem:
        payload: dict[str, Any] = {"assignment_id": row.id, "context_id": context.id, "subject": person.subject}
        if context.backend == AGS:
            assert person.sub is not None
            payload["score"] = ags.score(
                sub=person.sub, score_given=fields.score_given, score_maximum=fields.score_maximum,
                comment=fields.comment, activity_progress=fields.activity_progress,
                grading_progress=fields.grading_progress, submitted_at=fields.submitted_at,
                started_at=fields.started_at)
        else:
            payload.update(score_given=fields.score_given, score_maximum=fields.score_maximum,
                           points_possible=row.points_possible, grade=fields.grade, comment=fields.comment,
                           grading_progress=fields.grading_progress)
        return OutboxItem(kind=st.GRADE, backend=context.backend, ordering_key=st.grade_key(row.id, person.subject),
                          payload=payload, api_key_id=api_key_id, event_at=fields.occurred_at or now)

    @staticmethod
    def _assignment_warnings(row: WritebackAssignmentRow) -> list[dict[str, str]]:
        if row.remote_state == FAILED:
            return [{"code": "ASSIGNMENT_NOT_CREATED", "message": "The assignment's creation failed; its grades "
                     "fail too until the creation is replayed and delivered."}]
        return []

    def put_grade(self, s: Session, context_id: str, ref: str, user_ref: str, body: Any, *,
                  api_key_id: str | None, now: dt.datetime) -> dict[str, Any]:
        context = resolve(s, context_id)
        row = self._live(s, context, ref)
        fields = self._grade_fields(context, body, now)
        context.require("write_grades")
        person = People(s, context).resolve([user_ref])[user_ref]
        if isinstance(person, GatewayError):
            raise person
        item = self._grade_item(context, row, person, fields, api_key_id, now)
        made = self._outbox.enqueue(s, item)
        return {
            "assignment_id": row.id, "user_id": user_ref, "delivery": _delivery(made, st.GRADE),
            "event_at": iso(item.event_at),
            "warnings": [*person.warnings, *self._assignment_warnings(row), *(n.document() for n in context.notes)],
        }

    def put_grades(self, s: Session, context_id: str, ref: str, body: Any, *, api_key_id: str | None,
                   actor: str, now: dt.datetime) -> dict[str, Any]:
        context = resolve(s, context_id)
        row = self._live(s, context, ref)
        raw_items = validation.batch_items(body)
        context.require("write_grades")
        outcomes: list[dict[str, Any]] = []
        parsed: list[tuple[int, str, validation.GradeFields]] = []
        for index, raw in enumerate(raw_items):
            outcome: dict[str, Any] = {"index": index, "user_id": None, "status": "rejected", "delivery_id": None,
                                       "event_at": None, "error": None, "warnings": []}
            outcomes.append(outcome)
            try:
                outcome["user_id"] = validation.batch_user(raw, index)
                fields = self._grade_fields(context, raw, now, f"grades[{index}].", ("user_id",))
            except GatewayError as e:
                outcome["error"] = _refusal(e)
                continue
            parsed.append((index, outcome["user_id"], fields))
        people = People(s, context).resolve([user for _, user, _ in parsed])
        accepted: list[tuple[int, OutboxItem, Person]] = []
        for index, user, fields in parsed:
            person = people[user]
            if isinstance(person, GatewayError):
                outcomes[index]["error"] = _refusal(person)
            else:
                accepted.append((index, self._grade_item(context, row, person, fields, api_key_id, now), person))
        if not accepted:
            raise BatchRejected("None of the grades was accepted; nothing was queued.",
                                extra={"items": outcomes, **field_errors("grades", "every item was refused")})
        made = self._outbox.enqueue_many(s, [item for _, item, _ in accepted])
        for (index, item, person), enqueued in zip(accepted, made, strict=True):
            outcomes[index].update(status="accepted", delivery_id=enqueued.id, event_at=iso(item.event_at),
                                   warnings=list(person.warnings))
        AuditRepository(s).record(actor, "grades.batch", f"assignment:{row.id}", accepted=len(accepted),
                                  rejected=len(outcomes) - len(accepted))
        return {
            "assignment_id": row.id, "accepted": len(accepted), "rejected": len(outcomes) - len(accepted),
            "items": outcomes,
            "warnings": [*self._assignment_warnings(row), *(n.document() for n in context.notes)],
        }


@dataclass(frozen=True)
class WritebackServices:
    """The writeback feature's services: the outbox, the delivery backends by name, and the vendor API's service."""

    db: Database
    outbox: Outbox
    # By backend name ("ags", "clever"); a worker claims only rows of the backends it has.
    backends: dict[str, DeliveryBackend]
    service: WritebackService
    roster: Roster  # LTI course rosters over Names and Roles
