"""Delivery over Clever LMS Connect (Clever LMS Connect API v3.1, ``v3.1-lms.yml``).

Assignments are created, updated (PATCH) and deleted at ``/v3.1/sections/{id}/assignments``; a grade is a
``PATCH .../assignments/{id}/submissions/{user_id}`` with ``grade_points``, ``grade`` and
``grade_comment``. Calls go through the one Clever client with the district-app token of the Secure
Sync install, made by :func:`gateway.clever.client.build_client` with the Clever feature's rate budget (one per
token for the deployment, shared with the sync and logins) but **no retries or waits of its own** (the outbox owns
retries, and honours ``X-RateLimit-Reset``; a call the budget holds back *waits* without spending an attempt), and
with ``GATEWAY_CLEVER_LMS_TIMEOUT_SECONDS`` (Clever advises 15-60 s). When Clever rejects the district token
(401/403), Clever's token list is read again once, as the sync does: a re-authorized district's new token is used
at once for the same call. A creation whose answer was lost (5xx, no answer) is not sent again: LMS Connect has no
lookup, so it is marked ``possibly_applied`` instead of risking a duplicate.

Before writing, the district's ``lms_state`` must be ``success`` and the section (and, for a grade, the
student) synced in the LMS, as the last roster sync read them; otherwise the delivery fails with the
reason, because sending would only make the LMS refuse. Grades older than one already delivered for
the student are skipped, so a late retry never overwrites a newer grade. LMS differences are reported
in the delivery's ``result.warnings``: Canvas ignores ``state``; Schoology needs the student to have
launched the app once (until then Clever answers 500, retried) and takes links only as text; Google
Classroom gives no submission id.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from sqlalchemy.orm import Session

import gateway.writeback.assignment_state as st
from gateway.clever import (
    AssignmentDraft,
    CleverApiError,
    CleverBadResponse,
    CleverClient,
    CleverNotFound,
    CleverRateLimited,
    CleverTokenRejected,
    CleverUnavailable,
    CleverWrongToken,
    SubmissionUpdate,
)
from gateway.retry import is_retryable
from gateway.store import Database
from gateway.store.models.clever import CleverDistrictRow
from gateway.store.repositories.assignments_contexts import WritebackLookup
from gateway.writeback.assignment_backend import AssignmentBackend, load_state, subject_of
from gateway.writeback.backend_metrics import BackendMetrics
from gateway.writeback.backends import Delivery, DeliveryResult
from gateway.writeback.contexts import CLEVER_NOTES, clever_readiness

NAME: Final = "clever"
R = TypeVar("R")


def draft(*, title: str, description: str | None, points: float, due_at: dt.datetime | None) -> dict[str, Any]:
    """The ``AssignmentRequest`` of an assignment (as the outbox payload keeps it)."""
    body: dict[str, Any] = {"title": title, "points_possible": points, "grading_type": "points"}
    if description is not None:
        body["description"] = description
    if due_at is not None:
        body["due_date"] = due_at.astimezone(dt.UTC).isoformat(timespec="milliseconds")
    return body


def grade_points(score_given: float, score_maximum: float | None, points_possible: float | None) -> float:
    """The score in the assignment's points: 7 of 10 on a 20-point assignment is 14 points."""
    if score_maximum and points_possible and score_maximum != points_possible:
        return round(score_given * points_possible / score_maximum, 4)
    return score_given


@dataclass(frozen=True)
class _Target:
    state: st.AssignmentState
    section_id: str
    lms_type: str | None
    token: str
    district_id: str


def _warnings(lms_type: str | None, *codes: str) -> list[dict[str, str]]:
    return [r.document() for r in CLEVER_NOTES.get(lms_type or "", ()) if r.code in codes]


class CleverLmsBackend(AssignmentBackend[_Target]):
    name = "clever"

    def __init__(self, db: Database, client: CleverClient, token_for: Callable[[str], str | None],
                 metrics: BackendMetrics, *, wait_seconds: float,
                 reread_token: Callable[[str, str], str | None] | None = None) -> None:
        super().__init__(db, metrics, wait_seconds=wait_seconds)
        self._client = client
        self._token_for = token_for
        self._reread_token = reread_token

    def _with_token(self, target: _Target, call: Callable[[str], R]) -> R:
        """``call`` with the district token; if Clever rejects it, re-read Clever's token list once (as the sync
        does) and, when the district has a new token, call once more with it."""
        try:
            return call(target.token)
        except CleverTokenRejected:
            fresh = self._reread_token(target.district_id, target.token) if self._reread_token else None
            if fresh is None:
                raise
            return call(fresh)

    def _target(self, s: Session, delivery: Delivery) -> _Target | DeliveryResult:
        state, subject = load_state(s, delivery), subject_of(delivery)
        if state is None or state.clever_section_id is None or state.clever_district_id is None:
            return DeliveryResult.failed("the assignment is not a Clever assignment known to the gateway")
        lookup = WritebackLookup(s)
        section = lookup.clever_section(state.clever_section_id)
        district = lookup.clever_district(state.clever_district_id)
        if section is None or district is None:
            return DeliveryResult.failed("the Clever section is no longer in the synced roster")
        if delivery.kind != st.DELETE:  # a delete of nothing needs no ready LMS; one of something does (below)
            refused = self._not_ready(district, clever_readiness(district, section))
            if refused is not None:
                return refused
        if subject is not None:
            student = lookup.clever_roster_users([subject]).get(subject)
            if student is None or student.archived_at is not None or student.lms_synced is not True:
                self._metrics.waits.labels(backend=NAME, reason="student_not_synced").inc()
                return DeliveryResult.failed("Clever has not matched this student to the LMS "
                                             "(lms_status.synced_in_lms is false at the last roster sync)")
        token = self._token_for(district.id)
        if token is None:
            return DeliveryResult.failed("the district has disconnected the app in Clever (no district token)")
        return _Target(state, section.id, district.lms_type, token, district.id)

    def _not_ready(self, district: CleverDistrictRow, reasons: tuple[Any, ...]) -> DeliveryResult | None:
        if not reasons:
            return None
        self._metrics.waits.labels(backend=NAME, reason=reasons[0].code.lower()).inc()
        words = "; ".join(r.message for r in reasons)
        return DeliveryResult.failed(f"Clever LMS Connect is not ready for this section: {words}")

    def _error(self, e: CleverApiError, doing: str, hint: str = "") -> DeliveryResult:
        """The result of a failed call, naming its real cause and code; Clever's rate-limit headers are kept."""
        status = e.clever_status or None
        body = json.dumps({"code": e.code, "message": e.message})
        error = f"{doing}: {_cause(e)}{hint} ({e.code})"
        kept = {"headers": e.clever_headers, "data": {"error_code": e.code}}
        if isinstance(e, CleverRateLimited) and status is None:
            # Held back by the token's budget: no call was made, so no attempt is spent; it goes at the reset.
            return DeliveryResult.wait(error, retry_after=e.retry_after if e.retry_after is not None else 60.0)
        if status is None or e.retryable or is_retryable(status):
            return DeliveryResult.retry(error, status=status, body=body, retry_after=e.retry_after, **kept)
        return DeliveryResult.failed(error, status=status, body=body, **kept)

    # -- assignments ----------------------------------------------------------------------------------------

    def _create(self, delivery: Delivery, target: _Target) -> DeliveryResult:
        try:
            draft = AssignmentDraft(**_draft(delivery.payload["draft"]))
            made = self._with_token(target, lambda token: self._client.create_assignment(token, target.section_id,
                                                                                           draft))
        except CleverUnavailable as e:
            return self._possibly_created(e)
        except CleverApiError as e:
            return self._error(e, "creating the assignment")
        warnings = _warnings(target.lms_type, "CANVAS_SUBMISSION_TYPES", "CANVAS_IGNORES_STATE")
        return DeliveryResult.delivered(status=200, data={"remote_id": made.id, "lms_type": target.lms_type,
                                                          "state": made.state, "warnings": warnings})

    def _possibly_created(self, e: CleverUnavailable) -> DeliveryResult:
        """A 5xx or no answer to ``POST …/assignments``: Clever may have made it, and LMS Connect has no way to look
        an assignment up but by its id (which the lost answer carried). Sending it again could make a second one,
        so it is not retried: the delivery fails, marked ``possibly_applied``, for the vendor to check the LMS."""
        self._metrics.possible_duplicates.labels(backend=NAME).inc()
        status = e.clever_status or None
        error = (f"creating the assignment: {_cause(e)} ({e.code}); the create may have reached Clever, so it is not "
                 "sent again: check the LMS before replaying it (a replay may make a duplicate)")
        return DeliveryResult.failed(error, status=status, body=json.dumps({"code": e.code, "message": e.message}),
                                     headers=e.clever_headers,
                                     data={"error_code": e.code, "possibly_applied": True})

    def _update(self, delivery: Delivery, target: _Target) -> DeliveryResult:
        remote_id = target.state.remote_id
        assert remote_id is not None
        try:
            draft = AssignmentDraft(**_draft(delivery.payload["draft"]))
            self._with_token(target, lambda token: self._client.update_assignment(token, target.section_id,
                                                                                  remote_id, draft))
        except CleverApiError as e:
            return self._error(e, "updating the assignment")
        return DeliveryResult.delivered(status=200)

    def _delete(self, delivery: Delivery, target: _Target) -> DeliveryResult:
        state = target.state
        if not state.created:
            return DeliveryResult.delivered(error="nothing to delete in Clever: the assignment was never created")
        remote_id = state.remote_id
        assert remote_id is not None
        try:
            self._with_token(target, lambda token: self._client.delete_assignment(token, target.section_id,
                                                                                  remote_id))
        except CleverNotFound:
            return DeliveryResult.delivered(status=404, error="the assignment was already gone in Clever")
        except CleverApiError as e:
            return self._error(e, "deleting the assignment")
        return DeliveryResult.delivered(status=200)

    # -- grades ---------------------------------------------------------------------------------------------

    def _grade(self, delivery: Delivery, target: _Target) -> DeliveryResult:
        state, payload = target.state, delivery.payload
        remote_id = state.remote_id
        assert remote_id is not None
        given = payload.get("score_given")
        points = grade_points(float(given), payload.get("score_maximum"), payload.get("points_possible")) \
            if isinstance(given, int | float) else None
        letter = payload.get("grade")
        update = SubmissionUpdate(
            grade_points=points,
            grade=letter if isinstance(letter, str) else (f"{points:g}" if points is not None else None),
            grade_comment=payload.get("comment"),
        )
        schoology = " (on Schoology: the student must have opened the app's LTI link once since LMS Connect " \
                    "was enabled)" if target.lms_type == "schoology" else ""
        try:
            self._with_token(target, lambda token: self._client.update_submission(
                token, target.section_id, remote_id, str(payload["subject"]), update))
        except CleverNotFound as e:
            self._metrics.grade_refusals.labels(backend=NAME, status="404").inc()
            return DeliveryResult.failed("Clever has no submission for this student on this assignment (404): the "
                                         "student may not be in the LMS section", status=404,
                                         body=json.dumps({"message": e.message}))
        except CleverApiError as e:
            result = self._error(e, "updating the submission", schoology if e.clever_status >= 500 else "")
            if result.outcome == "failed" and result.status is not None:
                self._metrics.grade_refusals.labels(backend=NAME, status=str(result.status)).inc()
            return result
        warnings = _warnings(target.lms_type, "GOOGLE_CLASSROOM_NO_SUBMISSION_ID", "CANVAS_IGNORES_STATE")
        return DeliveryResult.delivered(status=200, data={"grade_points": points, "lms_type": target.lms_type,
                                                          "warnings": warnings})


def _cause(e: CleverApiError) -> str:
    """What went wrong, in words an operator can act on (the answer's status alone hides the cause)."""
    status, wait = e.clever_status, e.retry_after
    if isinstance(e, CleverWrongToken):
        return f"Clever answered {status} with HTML, not JSON: check the district token"
    if isinstance(e, CleverRateLimited):
        if not status:
            return f"not sent, the district token's rate limit holds it: {e.message}"
        after = f"; its window resets in {wait:.0f} s" if wait is not None else ""
        return f"Clever's rate limit for the district token is spent ({status}){after}"
    if isinstance(e, CleverBadResponse):
        return f"Clever's answer could not be read: {e.message}"
    if isinstance(e, CleverTokenRejected):
        return f"Clever rejected the district token ({status})"
    if isinstance(e, CleverUnavailable) and not status:
        return f"no answer from Clever: {e.message}"
    return f"Clever answered {status}: {e.message}" if status else e.message


def _draft(raw: dict[str, Any]) -> dict[str, Any]:
    values = dict(raw)
    if isinstance(values.get("due_date"), str):
        values["due_date"] = dt.datetime.fromisoformat(values["due_date"])
    return values
