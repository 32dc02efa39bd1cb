"""Request bodies of the assignments and grades API, checked into plain frozen values (no Flask here).

Every problem is raised before anything is written. Unknown fields are refused rather than ignored:
a misspelt ``score_maximun`` must not silently become "no maximum".
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from gateway.errors import ValidationFailed
from gateway.writeback.refusals import (
    BatchTooLarge,
    ScoreMaximumRequired,
    ScoreNotFinite,
    ScoreOutOfRange,
    field_errors,
)

MAX_BATCH = 1000
MAX_TITLE = 500
MAX_DESCRIPTION = 20_000
MAX_COMMENT = 10_000
MAX_ID = 255
# A vendor clock a little ahead is fine; an event time far in the future would shadow every later grade.
FUTURE_SKEW = dt.timedelta(minutes=5)

ACTIVITY_PROGRESS = ("Initialized", "Started", "InProgress", "Submitted", "Completed")
GRADING_PROGRESS = ("FullyGraded", "Pending", "PendingManual", "Failed", "NotReady")

ASSIGNMENT_FIELDS = ("title", "description", "points_possible", "due_date", "resource_link_id", "tag", "vendor_id")
CHANGEABLE_FIELDS = ("title", "description", "points_possible", "due_date")
GRADE_FIELDS = ("score_given", "score_maximum", "comment", "grade", "activity_progress", "grading_progress",
                "submitted_at", "started_at", "occurred_at", "allow_exceeding_maximum")


def invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, extra=field_errors(field, message))


def _object(body: Any, allowed: tuple[str, ...], prefix: str = "") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise invalid(prefix.rstrip(".") or "body", "Send a JSON object.")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise invalid(prefix + unknown[0], f"Unknown field `{unknown[0]}`.")
    return body


def _text(body: dict[str, Any], name: str, limit: int, prefix: str = "", *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise invalid(prefix + name, f"`{name}` is required.")
        return None
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise invalid(prefix + name, f"`{name}` must be a string of at most {limit} characters"
                      + (", not blank." if required else "."))
    return value


def _number(body: dict[str, Any], name: str, prefix: str = "") -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid(prefix + name, f"`{name}` must be a number.")
    number = float(value)
    if not math.isfinite(number):
        raise ScoreNotFinite(f"`{name}` is {value!r}.", extra=field_errors(prefix + name, "not a finite number"))
    return number


def _datetime(body: dict[str, Any], name: str, prefix: str = "") -> dt.datetime | None:
    value = body.get(name)
    if value is None:
        return None
    message = f"`{name}` must be an ISO 8601 date-time with a time zone, e.g. 2026-03-01T15:04:05.123Z."
    if not isinstance(value, str):
        raise invalid(prefix + name, message)
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise invalid(prefix + name, message) from None
    if parsed.tzinfo is None:
        raise invalid(prefix + name, message)
    return parsed.astimezone(dt.UTC)


def _choice(body: dict[str, Any], name: str, choices: tuple[str, ...], default: str, prefix: str = "") -> str:
    value = body.get(name)
    if value is None:
        return default
    if value not in choices:
        raise invalid(prefix + name, f"`{name}` must be one of {', '.join(choices)}.")
    return str(value)


def _points(body: dict[str, Any], name: str, *, required: bool) -> float | None:
    value = _number(body, name)
    if value is None:
        if required:
            raise invalid(name, f"`{name}` is required (the assignment's maximum points, above 0).")
        return None
    if value <= 0:
        raise invalid(name, f"`{name}` must be above 0.")
    return value


# -- assignments -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssignmentFields:
    title: str
    description: str | None
    points_possible: float
    due_at: dt.datetime | None
    resource_link_id: str | None
    tag: str | None
    vendor_id: str | None


def assignment_create(body: Any) -> AssignmentFields:
    data = _object(body, ASSIGNMENT_FIELDS)
    title = _text(data, "title", MAX_TITLE, required=True)
    points = _points(data, "points_possible", required=True)
    assert title is not None and points is not None
    vendor_id = _text(data, "vendor_id", MAX_ID)
    if vendor_id is not None and not vendor_id.strip():
        raise invalid("vendor_id", "`vendor_id` must not be blank.")
    return AssignmentFields(
        title=title,
        description=_text(data, "description", MAX_DESCRIPTION),
        points_possible=points,
        due_at=_datetime(data, "due_date"),
        resource_link_id=_text(data, "resource_link_id", 40),
        tag=_text(data, "tag", MAX_ID),
        vendor_id=vendor_id,
    )


def assignment_changes(body: Any) -> dict[str, Any]:
    """The fields a PATCH changes (``due_at`` may become None); nothing else can change after creation."""
    if isinstance(body, dict):
        fixed = sorted(set(body) & (set(ASSIGNMENT_FIELDS) - set(CHANGEABLE_FIELDS)))
        if fixed:
            raise invalid(fixed[0], f"`{fixed[0]}` cannot change after creation; create a new assignment.")
    data = _object(body, CHANGEABLE_FIELDS)
    if not data:
        raise invalid("body", f"Send at least one of {', '.join(CHANGEABLE_FIELDS)}.")
    changes: dict[str, Any] = {}
    if "title" in data:
        changes["title"] = _text(data, "title", MAX_TITLE, required=True)
    if "description" in data:
        changes["description"] = _text(data, "description", MAX_DESCRIPTION)
    if "points_possible" in data:
        changes["points_possible"] = _points(data, "points_possible", required=True)
    if "due_date" in data:
        changes["due_at"] = _datetime(data, "due_date")
    return changes


# -- grades ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GradeFields:
    score_given: float | None
    score_maximum: float | None
    comment: str | None
    grade: str | None
    activity_progress: str
    grading_progress: str
    submitted_at: dt.datetime | None
    started_at: dt.datetime | None
    occurred_at: dt.datetime | None


def grade(body: Any, *, now: dt.datetime, prefix: str = "", extra_fields: tuple[str, ...] = ()) -> GradeFields:
    """One grade; ``prefix`` names its place in a batch (``grades[3].``) in error fields."""
    data = _object(body, GRADE_FIELDS + extra_fields, prefix)
    given = _number(data, "score_given", prefix)
    maximum = _number(data, "score_maximum", prefix)
    allow_more = data.get("allow_exceeding_maximum", False)
    if not isinstance(allow_more, bool):
        raise invalid(prefix + "allow_exceeding_maximum", "`allow_exceeding_maximum` must be true or false.")
    if maximum is not None and maximum <= 0:
        raise invalid(prefix + "score_maximum", "`score_maximum` must be above 0.")
    if given is not None:
        if maximum is None:
            raise ScoreMaximumRequired(extra=field_errors(prefix + "score_maximum", "required with score_given"))
        if given < 0 or (given > maximum and not allow_more):
            raise ScoreOutOfRange(
                f"score_given {given:g} is outside 0..{maximum:g}.",
                extra=field_errors(prefix + "score_given", f"must be between 0 and {maximum:g}"),
            )
    grading = _choice(data, "grading_progress", GRADING_PROGRESS, "FullyGraded" if given is not None else "Pending",
                      prefix)
    if grading == "FullyGraded" and given is None:
        raise invalid(prefix + "score_given", "A `FullyGraded` grade needs `score_given` (and `score_maximum`).")
    occurred = _datetime(data, "occurred_at", prefix)
    if occurred is not None and occurred > now + FUTURE_SKEW:
        raise invalid(prefix + "occurred_at", "`occurred_at` is in the future; send the time the grade was given.")
    return GradeFields(
        score_given=given,
        score_maximum=maximum,
        comment=_text(data, "comment", MAX_COMMENT, prefix),
        grade=_text(data, "grade", 100, prefix),
        activity_progress=_choice(data, "activity_progress", ACTIVITY_PROGRESS, "Completed", prefix),
        grading_progress=grading,
        submitted_at=_datetime(data, "submitted_at", prefix),
        started_at=_datetime(data, "started_at", prefix),
        occurred_at=occurred,
    )


def batch_items(body: Any) -> list[Any]:
    """The raw items of a batch; each is checked on its own (an outcome per item)."""
    data = _object(body, ("grades",))
    items = data.get("grades")
    if not isinstance(items, list) or not items:
        raise invalid("grades", f"`grades` must be a list of 1 to {MAX_BATCH} grades.")
    if len(items) > MAX_BATCH:
        raise BatchTooLarge(f"The batch holds {len(items)} grades; the limit is {MAX_BATCH}.",
                            extra=field_errors("grades", f"at most {MAX_BATCH} items"))
    return items


def batch_user(item: Any, index: int) -> str:
    prefix = f"grades[{index}]."
    if not isinstance(item, dict):
        raise invalid(f"grades[{index}]", "Each grade must be a JSON object.")
    user = _text(item, "user_id", MAX_ID, prefix, required=True)
    assert user is not None
    return user
