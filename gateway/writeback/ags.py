"""Delivery over LTI AGS: outbox rows onto :class:`gateway.lti.ags.AgsClient`, its errors onto outcomes.

An assignment is a line item: created in the context's line items container, after looking for one the
gateway made before (by ``resourceId``) and for a line item of the placement or tag; updated with PUT; deleted
with DELETE. The LMS's line items are the LMS's: a placement's own line item (coupled mode) or a free one found
by tag is adopted as it is (never PUT on adoption, never deleted); it changes only when the vendor asks
(``PATCH`` of the assignment), and then only in the fields the vendor changed, over the LMS's current copy.
Each score is its own delivery, so a refused score (student not enrolled, role not gradable) fails alone; a
409 means the LMS holds a newer score, and the older one is skipped. Calls use
``GATEWAY_WRITEBACK_AGS_TIMEOUT_SECONDS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy.orm import Session

import gateway.writeback.assignment_state as st
from gateway.lti import AgsAnswerError, AgsClient, AgsNoAnswer, AgsUrlRefused, TokenTarget, TokenUnavailable
from gateway.lti import claims as c
from gateway.store import Database
from gateway.store.repositories.assignments_contexts import WritebackLookup
from gateway.writeback.assignment_backend import AssignmentBackend, load_state
from gateway.writeback.backend_metrics import BackendMetrics
from gateway.writeback.backends import Delivery, DeliveryResult
from gateway.writeback.classify import classify_outbound_error, classify_response

NAME: Final = "ags"
# Assignment fields a vendor may change, and the line item member each one is.
LINE_ITEM_MEMBER: Final = {"title": "label", "points_possible": "scoreMaximum", "due_at": "endDateTime"}


@dataclass(frozen=True)
class _Target:
    state: st.AssignmentState
    token: TokenTarget
    lineitems_url: str | None
    scopes: frozenset[str]

    @property
    def manages_line_items(self) -> bool:
        return c.AGS_SCOPE_LINEITEM in self.scopes


def _unavailable(e: TokenUnavailable) -> DeliveryResult:
    """No token: retried unless the platform refused us for good (then the registration needs a look)."""
    if e.outbound is not None:
        return classify_outbound_error(e.outbound)
    if e.reason == "refused" and e.response is not None:
        judged = classify_response(e.response)
        what = e.message
        if judged.outcome == "failed":
            what += " (check the registration: client id, token URL or audience, and the tool's JWKS)"
        return DeliveryResult(judged.outcome, status=judged.status, body=judged.body, headers=judged.headers,
                              retry_after=judged.retry_after, error=what)
    return DeliveryResult.retry(e.message, status=e.response.status_code if e.response is not None else None)


def _judged(e: AgsAnswerError) -> DeliveryResult:
    """The platform's answer by the outbound rule; a 2xx that broke the spec is retried (it may heal)."""
    judged = classify_response(e.response)
    if judged.outcome == "delivered":
        return DeliveryResult.retry(e.message or f"remote answered {e.status}", status=e.status)
    if e.message is None:
        return judged
    return DeliveryResult(judged.outcome, status=judged.status, body=judged.body, headers=judged.headers,
                          retry_after=judged.retry_after, error=e.message)


class AgsBackend(AssignmentBackend[_Target]):
    name = "ags"

    def __init__(self, db: Database, client: AgsClient, metrics: BackendMetrics, *, wait_seconds: float) -> None:
        super().__init__(db, metrics, wait_seconds=wait_seconds)
        self._client = client

    def deliver(self, delivery: Delivery) -> DeliveryResult:
        try:
            return super().deliver(delivery)
        except TokenUnavailable as e:
            return _unavailable(e)
        except AgsNoAnswer as e:
            return classify_outbound_error(e.outbound)
        except AgsAnswerError as e:
            return _judged(e)
        except AgsUrlRefused as e:  # the platform pointed the token somewhere the registration does not cover
            return DeliveryResult.failed(str(e))

    def _target(self, s: Session, delivery: Delivery) -> _Target | DeliveryResult:
        state = load_state(s, delivery)
        if state is None or state.lti_context_ref is None:
            return DeliveryResult.failed("the assignment is not an LTI assignment known to the gateway")
        lookup = WritebackLookup(s)
        context = lookup.lti_context(state.lti_context_ref)
        registration = lookup.registration(context.registration_id) if context is not None else None
        if context is None or registration is None:
            return DeliveryResult.failed("the assignment's LTI course is no longer known to the gateway")
        if registration.status != "active":
            return DeliveryResult.failed("the platform registration is disabled in the gateway")
        deployment = lookup.deployment(context.deployment_ref)
        if deployment is None or deployment.status != "active":
            return DeliveryResult.failed("the course's LTI deployment is disabled in the gateway")
        scopes = frozenset(context.ags_scopes or [])
        if not scopes:
            return DeliveryResult.failed("no launch in the course granted AGS scopes")
        token = TokenTarget(registration.id, registration.client_id, registration.auth_token_url,
                            registration.auth_audience or registration.auth_token_url, tuple(sorted(scopes)))
        return _Target(state, token, context.ags_lineitems_url, scopes)

    # -- line items -----------------------------------------------------------------------------------------

    def _create(self, delivery: Delivery, target: _Target) -> DeliveryResult:
        state, payload = target.state, delivery.payload
        item: dict[str, Any] = dict(payload["line_item"])
        coupled = payload.get("coupled_line_item")
        if isinstance(coupled, str):
            return self._adopt(target, coupled, item, how="coupled")
        if not target.manages_line_items or not target.lineitems_url:
            return DeliveryResult.failed("the platform granted no line-item scope or line items URL in this course")
        mine = self._client.find_line_items(target.token, target.lineitems_url, {"resource_id": state.id})
        if mine:  # an earlier attempt created it and its answer was lost
            return DeliveryResult.delivered(data={"remote_id": mine[0]["id"], "owned": True, "found": "resource_id"})
        filters = {name: item[member] for name, member in (("resource_link_id", "resourceLinkId"), ("tag", "tag"))
                   if isinstance(item.get(member), str)}
        if filters:
            theirs = self._client.find_line_items(target.token, target.lineitems_url, filters)
            free = [i for i in theirs if not i.get("resourceId")]  # never take another assignment's line item
            if free:
                return self._adopt(target, free[0]["id"], item, how="+".join(sorted(filters)))
        # Retrying a creation whose answer had no id is safe: the next attempt finds it by its resourceId.
        remote_id, response = self._client.create_line_item(target.token, target.lineitems_url, item)
        judged = classify_response(response)
        return DeliveryResult.delivered(status=judged.status, body=judged.body,
                                        data={"remote_id": remote_id, "owned": True})

    def _adopt(self, target: _Target, url: str, item: dict[str, Any], *, how: str) -> DeliveryResult:
        """Take the LMS's line item as it is: its label and maximum stay the LMS's (grading never rewrites them)."""
        data = {"remote_id": url, "owned": False, "adopted": how}
        return DeliveryResult.delivered(data=data, error="adopted the LMS's line item as it is: its label and "
                                        "maximum stay the LMS's unless the assignment is changed (PATCH)")

    def _update(self, delivery: Delivery, target: _Target) -> DeliveryResult:
        remote_id = target.state.remote_id
        assert remote_id is not None
        if not target.manages_line_items:
            return DeliveryResult.delivered(error="not changed in the LMS: the platform granted no line-item scope")
        item: dict[str, Any] = delivery.payload["line_item"]
        if target.state.remote_detail.get("owned", True):
            return classify_response(self._client.update_line_item(target.token, remote_id, item))
        # The LMS's own line item: only what the vendor asked to change, over the LMS's current copy.
        changed = delivery.payload.get("changed")
        members = [LINE_ITEM_MEMBER[f] for f in changed or () if f in LINE_ITEM_MEMBER]
        if not members:
            return DeliveryResult.delivered(error="not changed in the LMS: the line item is the LMS's and no field "
                                            "it holds was changed")
        current = self._client.get_line_item(target.token, remote_id)
        for member in members:
            if member in item:
                current[member] = item[member]
            else:
                current.pop(member, None)  # a due date removed
        return classify_response(self._client.update_line_item(target.token, remote_id, current))

    def _delete(self, delivery: Delivery, target: _Target) -> DeliveryResult:
        state = target.state
        if not state.created:
            return DeliveryResult.delivered(error="nothing to delete remotely: the line item was never created")
        assert state.remote_id is not None
        if not state.remote_detail.get("owned", True):
            return DeliveryResult.delivered(error="kept in the LMS: the line item belongs to the placement")
        if not target.manages_line_items:
            return DeliveryResult.delivered(error="kept in the LMS: the platform granted no line-item scope")
        try:
            return classify_response(self._client.delete_line_item(target.token, state.remote_id))
        except AgsAnswerError as e:
            if e.status in (404, 410):
                return DeliveryResult.delivered(status=e.status, error="the line item was already gone")
            raise

    # -- scores ---------------------------------------------------------------------------------------------

    def _grade(self, delivery: Delivery, target: _Target) -> DeliveryResult:
        remote_id = target.state.remote_id
        assert remote_id is not None
        try:
            response = self._client.post_score(target.token, remote_id, delivery.payload["score"],
                                               delivery.event_at or delivery.created_at)
        except AgsAnswerError as e:
            judged = _judged(e)
            if judged.outcome != "failed":
                raise
            if e.status == 409:
                return DeliveryResult("skipped", status=e.status, body=judged.body, headers=judged.headers,
                                      error="skipped: the LMS holds a newer score for this student (409)")
            self._metrics.grade_refusals.labels(backend=NAME, status=str(e.status)).inc()
            return DeliveryResult.failed(
                f"the LMS refused this score (remote answered {e.status}): the student may not be enrolled, "
                "or their role cannot be graded", status=e.status, body=judged.body, headers=judged.headers,
            )
        return classify_response(response)
