"""Delivery over LTI Assignment and Grade Services 2.0 (https://www.imsglobal.org/spec/lti-ags/v2p0/).

Facts from lti-brief §1.7, §1.8 and §3.7. An assignment is a line item: created in the context's line
items container (after looking for one the gateway made before, by ``resourceId``, and for a line item of
the placement or tag), updated with PUT, deleted with DELETE; a placement's own line item (coupled mode)
is adopted, never deleted. A grade is a score POSTed to ``{line item}/scores`` (the line item URL's query
string kept) with ``application/vnd.ims.lis.v1.score+json``; ``scoreMaximum`` always travels with
``scoreGiven``, and ``timestamp`` is the grade's event time, so the LMS keeps the newest. Lists page with
``Link: <...>; rel="next"`` (``rel`` quoted or bare, as lti1p3platform sends it). Each score is its own
delivery, so a refused score (student not enrolled, role not gradable) fails alone; a 409 means the LMS
holds a newer score, and the older one is skipped. Every call goes through ``services.http`` with
``GATEWAY_WRITEBACK_AGS_TIMEOUT_SECONDS``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import requests
from sqlalchemy.orm import Session

from gateway.http import HttpClient, OutboundError
from gateway.lti import claims as c
from gateway.store import Database
from gateway.store.repositories.assignments_contexts import WritebackLookup
from gateway.writeback import assignment_state as st
from gateway.writeback.ags_token import AgsTokens, TokenTarget, TokenUnavailable
from gateway.writeback.assignment_backend import AssignmentBackend
from gateway.writeback.backend_metrics import BackendMetrics
from gateway.writeback.backends import Delivery, DeliveryResult
from gateway.writeback.classify import classify_outbound_error, classify_response

NAME: Final = "ags"
LINEITEM: Final = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEM_CONTAINER: Final = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE: Final = "application/vnd.ims.lis.v1.score+json"
MAX_PAGES: Final = 50
_LINK_VALUE = re.compile(r"<([^>]*)>([^<]*)")


# -- pure helpers (also used to build outbox payloads) ------------------------------------------------------


def next_link(header: str | None) -> str | None:
    """The target of ``rel="next"`` in a ``Link`` header (RFC 8288), with ``rel`` quoted or bare."""
    if not header:
        return None
    for match in _LINK_VALUE.finditer(header):
        for param in match.group(2).strip().strip(",").split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "rel" and "next" in value.strip().strip('"').lower().split():
                return match.group(1).strip()
    return None


def scores_url(line_item_url: str) -> str:
    """``{line item}/scores``, keeping the line item URL's query string (Moodle puts its type id there)."""
    parts = urlsplit(line_item_url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/scores", parts.query, ""))


def timestamp(value: dt.datetime) -> str:
    """ISO 8601 with milliseconds, as the spec asks ("should use subsecond precision")."""
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def line_item(*, assignment_id: str, title: str, points: float, tag: str | None, resource_link_lms_id: str | None,
              due_at: dt.datetime | None) -> dict[str, Any]:
    """The line item of an assignment. ``resourceId`` is the gateway's own assignment id, so it never collides."""
    item: dict[str, Any] = {"label": title, "scoreMaximum": points, "resourceId": assignment_id}
    if tag:
        item["tag"] = tag
    if resource_link_lms_id:
        item["resourceLinkId"] = resource_link_lms_id
    if due_at is not None:
        item["endDateTime"] = timestamp(due_at)
    return item


def score(*, sub: str, score_given: float | None, score_maximum: float | None, comment: str | None,
          activity_progress: str, grading_progress: str, submitted_at: dt.datetime | None,
          started_at: dt.datetime | None) -> dict[str, Any]:
    """A score without its ``timestamp`` (the delivery adds its event time)."""
    body: dict[str, Any] = {"userId": sub, "activityProgress": activity_progress, "gradingProgress": grading_progress}
    if score_given is not None:
        body["scoreGiven"] = score_given
        body["scoreMaximum"] = score_maximum
    if comment is not None:
        body["comment"] = comment
    submission = {name: timestamp(value) for name, value in (("startedAt", started_at), ("submittedAt", submitted_at))
                  if value is not None}
    if submission:
        body["submission"] = submission
    return body


# -- the backend -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    state: st.AssignmentState
    token: TokenTarget
    lineitems_url: str | None
    scopes: frozenset[str]

    @property
    def manages_line_items(self) -> bool:
        return c.AGS_SCOPE_LINEITEM in self.scopes


class AgsBackend(AssignmentBackend[_Target]):
    name = "ags"

    def __init__(self, db: Database, http: HttpClient, tokens: AgsTokens, metrics: BackendMetrics, *,
                 timeout: float, wait_seconds: float) -> None:
        super().__init__(db)
        self._http = http
        self._tokens = tokens
        self._metrics = metrics
        self._timeout = timeout
        self._wait = wait_seconds

    def _target(self, s: Session, delivery: Delivery) -> _Target | DeliveryResult:
        subject = delivery.payload.get("subject") if delivery.kind == st.GRADE else None
        state = st.load(s, str(delivery.payload.get("assignment_id")), subject if isinstance(subject, str) else None)
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

    # -- HTTP, with the token refreshed once on a 401 -------------------------------------------------------

    def _call(self, target: _Target, method: str, url: str, *, accept: str, content_type: str | None = None,
              body: Any = None, params: dict[str, str] | None = None) -> requests.Response | DeliveryResult:
        for attempt in (1, 2):
            try:
                token = self._tokens.token(target.token)
            except TokenUnavailable as e:
                return e.result
            headers = {"Authorization": f"Bearer {token}", "Accept": accept}
            kwargs: dict[str, Any] = {"headers": headers, "timeout": self._timeout, "allow_redirects": False}
            if content_type is not None:
                headers["Content-Type"] = content_type
                kwargs["data"] = json.dumps(body, allow_nan=False)
            if params:
                kwargs["params"] = params
            try:
                response = self._http.request(NAME, method, url, **kwargs)
            except OutboundError as e:
                return classify_outbound_error(e)
            if response.status_code == 401 and attempt == 1:
                self._tokens.invalidate(target.token, token)
                self._metrics.token_refreshes.inc()
                continue
            return response
        raise AssertionError("unreachable: the second attempt always returns")

    def _json(self, response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            return None

    # -- line items -----------------------------------------------------------------------------------------

    def _find(self, target: _Target, params: dict[str, str]) -> list[dict[str, Any]] | DeliveryResult:
        """Line items of the context matching ``params``, every page followed."""
        assert target.lineitems_url is not None
        found: list[dict[str, Any]] = []
        url: str | None = target.lineitems_url
        query: dict[str, str] | None = {**params, "limit": "100"}
        for _ in range(MAX_PAGES):
            if url is None:
                break
            response = self._call(target, "GET", url, accept=LINEITEM_CONTAINER, params=query)
            if isinstance(response, DeliveryResult):
                return response
            judged = classify_response(response)
            if judged.outcome != "delivered":
                return DeliveryResult(judged.outcome, status=judged.status, body=judged.body, headers=judged.headers,
                                      retry_after=judged.retry_after,
                                      error=f"listing line items: remote answered {response.status_code}")
            page = self._json(response)
            if not isinstance(page, list):
                return DeliveryResult.retry("the LMS's line item list is not a JSON array", status=response.status_code)
            found.extend(item for item in page if isinstance(item, dict) and isinstance(item.get("id"), str))
            url, query = next_link(response.headers.get("Link")), None
        return found

    def _create(self, delivery: Delivery, target: _Target) -> DeliveryResult:
        state, payload = target.state, delivery.payload
        if state.created:
            return DeliveryResult.delivered(data={"remote_id": state.remote_id, **state.remote_detail})
        item: dict[str, Any] = dict(payload["line_item"])
        coupled = payload.get("coupled_line_item")
        if isinstance(coupled, str):
            return self._adopt(target, coupled, item, owned=False, how="coupled")
        if not target.manages_line_items or not target.lineitems_url:
            return DeliveryResult.failed("the platform granted no line-item scope or line items URL in this course")
        mine = self._find(target, {"resource_id": state.id})
        if isinstance(mine, DeliveryResult):
            return mine
        if mine:  # an earlier attempt created it and its answer was lost
            return DeliveryResult.delivered(data={"remote_id": mine[0]["id"], "owned": True, "found": "resource_id"})
        filters = {name: item[member] for name, member in (("resource_link_id", "resourceLinkId"), ("tag", "tag"))
                   if isinstance(item.get(member), str)}
        if filters:
            theirs = self._find(target, filters)
            if isinstance(theirs, DeliveryResult):
                return theirs
            free = [i for i in theirs if not i.get("resourceId")]  # never take another assignment's line item
            if free:
                return self._adopt(target, free[0]["id"], item, owned=False, how="+".join(sorted(filters)))
        response = self._call(target, "POST", target.lineitems_url, accept=LINEITEM, content_type=LINEITEM, body=item)
        if isinstance(response, DeliveryResult):
            return response
        judged = classify_response(response)
        if judged.outcome != "delivered":
            return judged
        made = self._json(response)
        remote_id = made.get("id") if isinstance(made, dict) else None
        if not isinstance(remote_id, str) or not remote_id:
            # Retrying is safe: the next attempt finds the line item by its resourceId.
            return DeliveryResult.retry("the LMS created a line item but its answer has no id", status=judged.status)
        return DeliveryResult.delivered(status=judged.status, body=judged.body,
                                        data={"remote_id": remote_id, "owned": True})

    def _adopt(self, target: _Target, url: str, item: dict[str, Any], *, owned: bool, how: str) -> DeliveryResult:
        data = {"remote_id": url, "owned": owned, "adopted": how}
        if not target.manages_line_items:
            return DeliveryResult.delivered(data=data, error="adopted the placement's line item as it is "
                                            "(no line-item scope to change it)")
        response = self._call(target, "PUT", url, accept=LINEITEM, content_type=LINEITEM, body={**item, "id": url})
        if isinstance(response, DeliveryResult):
            return response
        judged = classify_response(response)
        if judged.outcome != "delivered":
            return judged
        return DeliveryResult.delivered(status=judged.status, data=data)

    def _update(self, delivery: Delivery, target: _Target) -> DeliveryResult:
        state = target.state
        refused = st.never_created(state)
        if refused is not None:
            return refused
        assert state.remote_id is not None
        if not target.manages_line_items:
            return DeliveryResult.delivered(error="not changed in the LMS: the platform granted no line-item scope")
        body = {**delivery.payload["line_item"], "id": state.remote_id}
        response = self._call(target, "PUT", state.remote_id, accept=LINEITEM, content_type=LINEITEM, body=body)
        return response if isinstance(response, DeliveryResult) else classify_response(response)

    def _delete(self, delivery: Delivery, target: _Target) -> DeliveryResult:
        state = target.state
        if not state.created:
            return DeliveryResult.delivered(error="nothing to delete remotely: the line item was never created")
        assert state.remote_id is not None
        if not state.remote_detail.get("owned", True):
            return DeliveryResult.delivered(error="kept in the LMS: the line item belongs to the placement")
        if not target.manages_line_items:
            return DeliveryResult.delivered(error="kept in the LMS: the platform granted no line-item scope")
        response = self._call(target, "DELETE", state.remote_id, accept="application/json")
        if isinstance(response, DeliveryResult):
            return response
        if response.status_code in (404, 410):
            return DeliveryResult.delivered(status=response.status_code, error="the line item was already gone")
        return classify_response(response)

    # -- scores ---------------------------------------------------------------------------------------------

    def _grade(self, delivery: Delivery, target: _Target) -> DeliveryResult:
        state = target.state
        skipped = st.superseded(state, delivery)
        if skipped is not None:
            self._metrics.waits.labels(backend=NAME, reason="superseded").inc()
            return skipped
        waiting = st.await_remote(state, wait_seconds=self._wait)
        if waiting is not None:
            self._metrics.waits.labels(backend=NAME, reason=f"assignment_{waiting.outcome}").inc()
            return waiting
        assert state.remote_id is not None
        body = {**delivery.payload["score"], "timestamp": timestamp(delivery.event_at or delivery.created_at)}
        response = self._call(target, "POST", scores_url(state.remote_id), accept="application/json",
                              content_type=SCORE, body=body)
        if isinstance(response, DeliveryResult):
            return response
        judged = classify_response(response)
        if judged.outcome != "failed":
            return judged
        status = response.status_code
        if status == 409:
            return DeliveryResult("skipped", status=status, body=judged.body, headers=judged.headers,
                                  error="skipped: the LMS holds a newer score for this student (409)")
        self._metrics.grade_refusals.labels(backend=NAME, status=str(status)).inc()
        return DeliveryResult.failed(
            f"the LMS refused this score (remote answered {status}): the student may not be enrolled, "
            "or their role cannot be graded", status=status, body=judged.body, headers=judged.headers,
        )
