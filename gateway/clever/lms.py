"""LMS Connect (Clever LMS Connect API v3.1, ``v3.1-lms.yml``): assignments and submissions.

The calls use the district-app token of the Secure Sync connection. Writes are slow on Clever's side (Clever
recommends 15-60 s timeouts), so they get their own timeout. POST is not retried by the transport (it may have
been applied); PATCH and DELETE are. Before writing, check ``District.lms_state == "success"`` and the section's
``lms_status.synced_in_lms`` (:meth:`LmsConnectMixin.lms_ready`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from gateway.clever.config import CleverConfig
from gateway.clever.transport import Bearer, CleverTransport
from gateway.clever.types import District, Page, Section, next_link, unwrap_one
from gateway.store.models.base import iso

LMS_VERSION = "v3.1"


def _json_fields(obj: Any) -> dict[str, Any]:
    """Only the fields that are set, so a PATCH never blanks what it did not mean to touch."""
    body: dict[str, Any] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if value is None:
            continue
        if isinstance(value, dt.datetime):
            value = iso(value, millis_z=True)
        elif isinstance(value, tuple):
            value = [item.to_json() if hasattr(item, "to_json") else item for item in value]
        body[f.name] = value
    return body


@dataclass(frozen=True)
class AttachmentDraft:
    """Spec ``AttachmentRequest`` (``type`` is ``file`` in the spec)."""

    url: str
    title: str | None = None
    description: str | None = None
    type: str = "file"

    def to_json(self) -> dict[str, Any]:
        return _json_fields(self)


@dataclass(frozen=True)
class AssignmentDraft:
    """Spec ``AssignmentRequest``: every field optional; unset fields are not sent."""

    title: str | None = None
    description: str | None = None
    description_plaintext: str | None = None
    due_date: dt.datetime | None = None
    display_date: dt.datetime | None = None
    start_date: dt.datetime | None = None
    end_date: dt.datetime | None = None
    points_possible: float | None = None
    grading_type: str | None = None  # points | percent | pass_fail | letter_grade
    submission_types: tuple[str, ...] | None = None  # link | file | text | discussion
    max_attempts: int | None = None
    assignee_mode: str | None = None  # all | individuals
    assignee_ids: tuple[str, ...] | None = None
    attachments: tuple[AttachmentDraft, ...] | None = None
    term_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return _json_fields(self)


@dataclass(frozen=True)
class SubmissionUpdate:
    """Spec ``SubmissionRequest``: the grade is ``grade_points`` (a number) and/or ``grade`` (a string)."""

    grade: str | None = None
    grade_points: float | None = None
    grade_comment: str | None = None
    grader_id: str | None = None
    state: str | None = None  # created | submitted | returned | reclaimed
    flags: tuple[str, ...] | None = None  # excused | late | missing
    extra_attempts: int | None = None
    override_due_date: dt.datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return _json_fields(self)


def _s(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class Assignment:
    id: str
    title: str | None
    description: str | None
    state: str | None
    due_date: str | None
    points_possible: float | None
    grading_type: str | None
    submission_types: tuple[str, ...]
    created: str | None
    last_modified: str | None

    @classmethod
    def parse(cls, body: Any) -> Assignment:
        from gateway.clever.errors import CleverBadResponse

        data = unwrap_one(body, "an assignment response")
        if not isinstance(data, Mapping) or not _s(data, "id"):
            raise CleverBadResponse("Clever sent an assignment without an id.")
        points = data.get("points_possible")
        types = data.get("submission_types")
        return cls(
            id=str(data["id"]),
            title=_s(data, "title"),
            description=_s(data, "description"),
            state=_s(data, "state"),
            due_date=_s(data, "due_date"),
            points_possible=float(points) if isinstance(points, int | float) else None,
            grading_type=_s(data, "grading_type"),
            submission_types=tuple(t for t in types if isinstance(t, str)) if isinstance(types, list) else (),
            created=_s(data, "created"),
            last_modified=_s(data, "last_modified"),
        )


@dataclass(frozen=True)
class Submission:
    """Keyed by (section, assignment, user): the submission ``id`` is deprecated (spec ``Submission``)."""

    assignment_id: str | None
    user_id: str | None
    state: str | None
    grade: str | None
    grade_points: float | None
    grade_comment: str | None = field(repr=False)
    flags: tuple[str, ...]
    last_modified: str | None

    @classmethod
    def parse_item(cls, data: Any) -> Submission:
        item: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        points = item.get("grade_points")
        flags = item.get("flags")
        return cls(
            assignment_id=_s(item, "assignment_id"),
            user_id=_s(item, "user_id"),
            state=_s(item, "state"),
            grade=_s(item, "grade"),
            grade_points=float(points) if isinstance(points, int | float) else None,
            grade_comment=_s(item, "grade_comment"),
            flags=tuple(f for f in flags if isinstance(f, str)) if isinstance(flags, list) else (),
            last_modified=_s(item, "last_modified"),
        )


class LmsConnectMixin:
    """LMS Connect calls of :class:`~gateway.clever.client.CleverClient` (which sets these attributes)."""

    _config: CleverConfig
    _transport: CleverTransport
    _lms_timeout: float

    def _lms(self, method: str, path: str, token: str, body: Any = None, params: Any = None) -> Any:
        url = self._config.api_base_url + f"/{LMS_VERSION}" + path
        return self._transport.send(method, url, Bearer(token), json_body=body, params=params,
                                    timeout=self._lms_timeout, system="clever_lms").body

    def create_assignment(self, token: str, section_id: str, draft: AssignmentDraft) -> Assignment:
        return Assignment.parse(self._lms("POST", f"/sections/{section_id}/assignments", token, draft.to_json()))

    def get_assignment(self, token: str, section_id: str, assignment_id: str) -> Assignment:
        return Assignment.parse(self._lms("GET", f"/sections/{section_id}/assignments/{assignment_id}", token))

    def update_assignment(self, token: str, section_id: str, assignment_id: str,
                          draft: AssignmentDraft) -> Assignment:
        path = f"/sections/{section_id}/assignments/{assignment_id}"
        return Assignment.parse(self._lms("PATCH", path, token, draft.to_json()))

    def delete_assignment(self, token: str, section_id: str, assignment_id: str) -> None:
        self._lms("DELETE", f"/sections/{section_id}/assignments/{assignment_id}", token)

    def submissions(self, token: str, section_id: str, assignment_id: str,
                    *, limit: int = 100) -> Iterator[Page[Submission]]:
        """All submissions, following the ``next`` link (valid two hours, https://dev.clever.com/docs/core-concepts)."""
        path: str | None = f"/sections/{section_id}/assignments/{assignment_id}/submissions"
        params: Any = {"limit": str(min(max(limit, 1), 100))}
        while path is not None:
            body = self._lms("GET", path, token, params=params)
            data = body.get("data") if isinstance(body, Mapping) else None
            items = tuple(Submission.parse_item(d) for d in (data if isinstance(data, list) else []))
            link = next_link(body) if isinstance(body, Mapping) else None
            yield Page(items, link)
            path = link.removeprefix(f"/{LMS_VERSION}") if link and items else None
            params = None

    def submission(self, token: str, section_id: str, assignment_id: str,
                   user_id: str) -> Submission:
        path = f"/sections/{section_id}/assignments/{assignment_id}/submissions/{user_id}"
        return Submission.parse_item(unwrap_one(self._lms("GET", path, token), "a submission response"))

    def update_submission(self, token: str, section_id: str, assignment_id: str, user_id: str,
                          update: SubmissionUpdate) -> Submission:
        path = f"/sections/{section_id}/assignments/{assignment_id}/submissions/{user_id}"
        body = self._lms("PATCH", path, token, update.to_json())
        return Submission.parse_item(unwrap_one(body, "a submission response"))

    def lms_state(self, token: str, district_id: str) -> str | None:
        """``District.lms_state``: ``success`` means writeback can work (https://dev.clever.com/docs/api-reference)."""
        body = self._lms("GET", f"/districts/{district_id}", token)
        return District.parse(unwrap_one(body, "a district response")).lms_state

    def section_synced_in_lms(self, token: str, section_id: str) -> bool:
        """``Section.lms_status.synced_in_lms``; absent means not synced."""
        body = self._lms("GET", f"/sections/{section_id}", token)
        return bool(Section.parse(unwrap_one(body, "a section response")).lms_synced)

    def lms_ready(self, token: str, district_id: str, section_id: str) -> bool:
        return self.lms_state(token, district_id) == "success" and self.section_synced_in_lms(token, section_id)
