"""Assignments of the writeback API, the newest delivered grade per student, and LTI course members."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Table, and_, bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from gateway.store.models.writeback_assignments import (
    LtiContextMemberRow,
    WritebackAssignmentRow,
    WritebackGradeRow,
)

_MEMBERS: Table = LtiContextMemberRow.__table__  # type: ignore[assignment]  # a declarative class's table
# Built once: every launch in a course runs them (bind names differ from column names, as UPDATE needs).
_MEMBER = select(_MEMBERS.c.roles, _MEMBERS.c.learner, _MEMBERS.c.last_launch_at).where(
    _MEMBERS.c.context_ref == bindparam("ctx"), _MEMBERS.c.user_id == bindparam("uid")
)
_MEMBER_INSERT = insert(_MEMBERS)
_MEMBER_SEEN = (
    update(_MEMBERS)
    .where(_MEMBERS.c.context_ref == bindparam("ctx"), _MEMBERS.c.user_id == bindparam("uid"))
    .values(roles=bindparam("new_roles"), learner=bindparam("new_learner"), last_launch_at=bindparam("at"))
)


class AssignmentRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, row: WritebackAssignmentRow) -> None:
        self._s.add(row)
        self._s.flush()

    def get(self, assignment_id: str) -> WritebackAssignmentRow | None:
        return self._s.get(WritebackAssignmentRow, assignment_id)

    def by_vendor_id(self, context_id: str, vendor_id: str) -> WritebackAssignmentRow | None:
        return self._s.scalars(
            select(WritebackAssignmentRow).where(
                WritebackAssignmentRow.context_id == context_id, WritebackAssignmentRow.vendor_id == vendor_id
            )
        ).first()

    def page(self, context_id: str, *, after: tuple[dt.datetime, str] | None, limit: int,
             include_deleted: bool) -> Sequence[WritebackAssignmentRow]:
        """Assignments of a context, oldest first, after the (created_at, id) cursor."""
        query = (
            select(WritebackAssignmentRow)
            .where(WritebackAssignmentRow.context_id == context_id)
            .order_by(WritebackAssignmentRow.created_at, WritebackAssignmentRow.id)
            .limit(limit)
        )
        if not include_deleted:
            query = query.where(WritebackAssignmentRow.deleted_at.is_(None))
        if after is not None:
            created, last_id = after
            query = query.where(or_(
                WritebackAssignmentRow.created_at > created,
                and_(WritebackAssignmentRow.created_at == created, WritebackAssignmentRow.id > last_id),
            ))
        return self._s.scalars(query).all()

    def record_remote(self, assignment_id: str, *, remote_id: str | None, remote_state: str,
                      detail: dict[str, object] | None, now: dt.datetime) -> None:
        """What a delivery learned about the remote copy (written with the delivery's outcome)."""
        values: dict[str, object] = {"remote_state": remote_state, "updated_at": now}
        if remote_id is not None:
            values["remote_id"] = remote_id
        if detail is not None:
            values["remote_detail"] = detail
        self._s.execute(
            update(WritebackAssignmentRow).where(WritebackAssignmentRow.id == assignment_id).values(**values)
        )


class GradeStateRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def newest_delivered(self, assignment_id: str, subject: str) -> dt.datetime | None:
        row = self._s.get(WritebackGradeRow, (assignment_id, subject))
        return row.last_event_at if row is not None else None

    def delivered(self, assignment_id: str, subject: str, event_at: dt.datetime | None, delivery_id: str,
                  now: dt.datetime) -> None:
        """Remember a delivered grade unless a newer one is already remembered (keeps the maximum)."""
        row = self._s.get(WritebackGradeRow, (assignment_id, subject), with_for_update=True)
        if row is None:
            self._s.add(WritebackGradeRow(assignment_id=assignment_id, subject=subject, last_event_at=event_at,
                                          last_delivery_id=delivery_id, updated_at=now))
            self._s.flush()
            return
        if row.last_event_at is None or (event_at is not None and event_at >= row.last_event_at):
            row.last_event_at = event_at or row.last_event_at
            row.last_delivery_id = delivery_id
            row.updated_at = now


class ContextMemberRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, context_ref: str, user_id: str) -> LtiContextMemberRow | None:
        return self._s.get(LtiContextMemberRow, (context_ref, user_id))

    def record(self, context_ref: str, user_id: str, roles: list[str], learner: bool, now: dt.datetime,
               precision: dt.timedelta = dt.timedelta(0)) -> None:
        """The member's latest launch in the course (roles of that launch win). A launch that changes nothing
        writes nothing unless ``last_launch_at`` is older than ``precision``."""
        key = {"ctx": context_ref, "uid": user_id}
        row = self._s.execute(_MEMBER, key).first()
        if row is None:
            self._s.flush()  # a Core insert does not flush: the user or course may be new in this transaction
            self._s.execute(_MEMBER_INSERT, {"context_ref": context_ref, "user_id": user_id, "roles": roles,
                                             "learner": learner, "first_launch_at": now, "last_launch_at": now})
        elif (list(row.roles or []), bool(row.learner)) != (roles, learner) or now - row.last_launch_at >= precision:
            self._s.execute(_MEMBER_SEEN, {**key, "new_roles": roles, "new_learner": learner, "at": now})

    def record_roster(self, context_ref: str, user_id: str, roles: list[str], learner: bool, status: str,
                      now: dt.datetime) -> None:
        """A member as the platform's roster lists them (roster roles win; a launch later sets its own)."""
        row = self.get(context_ref, user_id)
        if row is None:
            self._s.add(LtiContextMemberRow(context_ref=context_ref, user_id=user_id, roles=roles, learner=learner,
                                            first_launch_at=now, last_launch_at=now, nrps_status=status,
                                            roster_seen_at=now))
            return
        row.roles, row.learner, row.nrps_status, row.roster_seen_at = roles, learner, status, now

    def roster_since(self, context_ref: str, since: dt.datetime, after_user: str | None) -> list[LtiContextMemberRow]:
        """Members a roster read at or after ``since`` listed, by user id, after ``after_user``."""
        query = select(LtiContextMemberRow).where(
            LtiContextMemberRow.context_ref == context_ref, LtiContextMemberRow.roster_seen_at >= since)
        if after_user is not None:
            query = query.where(LtiContextMemberRow.user_id > after_user)
        return list(self._s.scalars(query.order_by(LtiContextMemberRow.user_id)))

    def many(self, context_ref: str, user_ids: Sequence[str]) -> dict[str, LtiContextMemberRow]:
        if not user_ids:
            return {}
        rows = self._s.scalars(
            select(LtiContextMemberRow).where(
                LtiContextMemberRow.context_ref == context_ref, LtiContextMemberRow.user_id.in_(list(user_ids))
            )
        )
        return {row.user_id: row for row in rows}
