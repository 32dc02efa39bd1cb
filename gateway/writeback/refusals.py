"""Stable error codes of the assignments, grades and contexts API (``/api/v1/contexts/...``).

Each refusal is raised before anything is written, so a refused request enqueues nothing. Field
problems carry ``errors: [{field, message}]`` (``field`` is ``grades[3].score_given`` inside a batch).
"""

from __future__ import annotations

from typing import Any

from gateway.errors import GatewayError, ValidationFailed


def field_errors(field: str, message: str) -> dict[str, Any]:
    return {"errors": [{"field": field, "message": message}]}


class ContextNotFound(GatewayError):
    code = "CONTEXT_NOT_FOUND"
    status = 404
    title = "No such context"
    default_hint = (
        "A context is an LTI course the gateway saw in a launch (`ctx_...`, the launch record's "
        "`context.id`) or a synced Clever section (`clever:<section id>`)."
    )


class AssignmentNotFound(GatewayError):
    code = "ASSIGNMENT_NOT_FOUND"
    status = 404
    title = "No such assignment in this context"
    default_hint = "Use the `asg_...` id the create call returned, or `ext:<your id>` for the id you gave it."


class AssignmentDeleted(GatewayError):
    code = "ASSIGNMENT_DELETED"
    status = 409
    title = "The assignment was deleted"
    default_hint = "Create a new assignment; a deleted one takes no changes or grades."


class VendorIdTaken(GatewayError):
    code = "VENDOR_ID_TAKEN"
    status = 409
    title = "Another assignment in this context has this vendor id"
    default_hint = "Update that assignment (`ext:<vendor id>`), delete it first, or choose another id."


class CapabilityUnavailable(GatewayError):
    code = "CAPABILITY_UNAVAILABLE"
    status = 409
    title = "This context cannot take this write"
    default_hint = "`reasons` says why; GET /api/v1/contexts/{id} shows what the context can do."


class ResourceLinkNotInContext(GatewayError):
    code = "RESOURCE_LINK_NOT_IN_CONTEXT"
    status = 422
    title = "The resource link is not a placement in this context"
    default_hint = "Use the launch record's `resource_link.id` (`rlk_...`) of a launch in this course."


class UserNotInContext(GatewayError):
    code = "USER_NOT_IN_CONTEXT"
    status = 422
    title = "The user is not in this context"
    default_hint = (
        "In an LTI course, a student becomes known when they launch the tool there; in a Clever section, "
        "when the roster sync lists them in it. Use the gateway user id (`usr_...`) or the Clever user id."
    )


class UserNotStudent(GatewayError):
    code = "USER_NOT_STUDENT"
    status = 422
    title = "The user is not a student of this section"
    default_hint = (
        "LMS Connect grades students only: a section's teacher (or anyone the synced roster does not list as "
        "one of its students) takes no grade."
    )


class UserNotSyncedInLms(GatewayError):
    code = "USER_NOT_SYNCED_IN_LMS"
    status = 409
    title = "Clever has not matched this student to the LMS"
    default_hint = (
        "Clever's `lms_status.synced_in_lms` is false for the student; the district must finish LMS Connect "
        "matching. The gateway reads it at each roster sync."
    )


class ScoreOutOfRange(ValidationFailed):
    code = "SCORE_OUT_OF_RANGE"
    title = "The score is below 0 or above the maximum"
    default_hint = "Send 0 <= score_given <= score_maximum, or `allow_exceeding_maximum: true` for extra credit."


class ScoreNotFinite(ValidationFailed):
    code = "SCORE_NOT_FINITE"
    title = "The score is not a finite number"
    default_hint = "NaN and infinities are not scores; send a number."


class ScoreMaximumRequired(ValidationFailed):
    code = "SCORE_MAXIMUM_REQUIRED"
    title = "`score_maximum` must come with `score_given`"
    default_hint = "Send the real maximum points (for 7 out of 10, score_given 7 and score_maximum 10)."


class BatchTooLarge(ValidationFailed):
    code = "BATCH_TOO_LARGE"
    title = "The batch holds too many grades"
    default_hint = "Send at most 1,000 grades per request; split larger batches."
