"""Simulated LMS Connect (``v3.1-lms.yml``): assignments and submissions of a section.

Writes need the district's ``lms_state`` to be ``success`` and the section to be synced in the LMS (Clever's docs);
otherwise the simulator answers 400 as a real district that is not ready would make the LMS refuse.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, jsonify, request

from sandbox.clever import records
from sandbox.clever.common import caller, error, sim, unauthorized

bp = Blueprint("clever_sim_lms", __name__, url_prefix="/v3.1/sections/<section_id>/assignments")

GRADING_TYPES = ("points", "percent", "pass_fail", "letter_grade")
SUBMISSION_TYPES = ("link", "file", "text", "discussion")
SUBMISSION_STATES = ("created", "submitted", "returned", "reclaimed")
FLAGS = ("excused", "late", "missing")
ASSIGNMENT_FIELDS = ("title", "description", "description_plaintext", "due_date", "display_date", "start_date",
                     "end_date", "points_possible", "grading_type", "submission_types", "max_attempts",
                     "assignee_mode", "assignee_ids", "attachments", "term_id")
SUBMISSION_FIELDS = ("grade", "grade_points", "grade_comment", "grader_id", "state", "flags", "extra_attempts",
                     "override_due_date", "attachments")


def _section(section_id: str, *, writing: bool) -> dict[str, Any] | Response:
    who = caller()
    if who.kind != "district":
        return unauthorized() if who.kind != "sso" else error(401, "Resource not in token's scopes")
    state = sim()
    section = state.find("sections", section_id, who.district_id)
    if section is None:
        return error(404, "section not found")
    if writing:
        if state.records["districts"][who.district_id].get("lms_state") != "success":
            return error(400, "District is not connected to an LMS")
        if not section.get("lms_status", {}).get("synced_in_lms"):
            return error(400, "Section is not synced in the LMS")
    return section


def _body(allowed: tuple[str, ...]) -> dict[str, Any] | Response:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return error(400, "body must be a JSON object")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        return error(400, f"unknown fields: {', '.join(unknown)}")
    checks: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("grading_type", GRADING_TYPES), ("state", SUBMISSION_STATES), ("assignee_mode", ("all", "individuals")))
    for name, values in checks:
        if body.get(name) is not None and body[name] not in values:
            return error(400, f"{name} must be one of {', '.join(values)}")
    lists: tuple[tuple[str, tuple[str, ...]], ...] = (("submission_types", SUBMISSION_TYPES), ("flags", FLAGS))
    for name, values in lists:
        if body.get(name) is not None and any(v not in values for v in body[name]):
            return error(400, f"{name} has an unknown value")
    for name in ("points_possible", "grade_points"):
        if body.get(name) is not None and not isinstance(body[name], int | float):
            return error(400, f"{name} must be a number")
    return {k: v for k, v in body.items() if v is not None}


def _assignment_view(assignment: dict[str, Any]) -> Response:
    return jsonify({"data": assignment})


@bp.post("")
def create(section_id: str) -> Response:
    section = _section(section_id, writing=True)
    if isinstance(section, Response):
        return section
    body = _body(ASSIGNMENT_FIELDS)
    if isinstance(body, Response):
        return body
    now = records.timestamp()
    assignment = {"title": "", "description": "", "grading_type": "points", "state": "open", **body,
                  "id": str(uuid.uuid4()), "created": now, "last_modified": now}
    state = sim()
    with state.lock:
        state.lms_writes.append(("POST", request.path, dict(body)))
        state.assignments[(section_id, assignment["id"])] = assignment
        for student in section["students"]:
            state.submissions[(section_id, assignment["id"], student)] = {
                "id": state.new_id(), "assignment_id": assignment["id"], "user_id": student,
                "state": "created", "created": now, "last_modified": now,
            }
    return _assignment_view(assignment)


def _assignment(section_id: str, assignment_id: str) -> dict[str, Any] | Response:
    found = sim().assignments.get((section_id, assignment_id))
    return found if found is not None else error(404, "assignment not found")


@bp.get("/<assignment_id>")
def read(section_id: str, assignment_id: str) -> Response:
    section = _section(section_id, writing=False)
    if isinstance(section, Response):
        return section
    found = _assignment(section_id, assignment_id)
    return found if isinstance(found, Response) else _assignment_view(found)


@bp.patch("/<assignment_id>")
def update(section_id: str, assignment_id: str) -> Response:
    section = _section(section_id, writing=True)
    if isinstance(section, Response):
        return section
    found = _assignment(section_id, assignment_id)
    if isinstance(found, Response):
        return found
    body = _body(ASSIGNMENT_FIELDS)
    if isinstance(body, Response):
        return body
    with sim().lock:
        sim().lms_writes.append(("PATCH", request.path, dict(body)))
        found.update(body)
        found["last_modified"] = records.timestamp()
    return _assignment_view(found)


@bp.delete("/<assignment_id>")
def delete(section_id: str, assignment_id: str) -> Response:
    section = _section(section_id, writing=True)
    if isinstance(section, Response):
        return section
    state = sim()
    with state.lock:
        if state.assignments.pop((section_id, assignment_id), None) is None:
            return error(404, "assignment not found")
        state.lms_writes.append(("DELETE", request.path, {}))
        for key in [k for k in state.submissions if k[:2] == (section_id, assignment_id)]:
            del state.submissions[key]
    return Response(status=200, mimetype="application/json")


@bp.get("/<assignment_id>/submissions")
def submissions(section_id: str, assignment_id: str) -> Response:
    section = _section(section_id, writing=False)
    if isinstance(section, Response):
        return section
    found = _assignment(section_id, assignment_id)
    if isinstance(found, Response):
        return found
    try:
        limit = int(request.args.get("limit", "100"))
        start = int(request.args.get("cursor", "0"))
    except ValueError:
        return error(400, "limit and cursor must be integers")
    if not 1 <= limit <= 100:
        return error(400, "limit must be between 1 and 100")
    state = sim()
    with state.lock:
        items = [v for k, v in sorted(state.submissions.items()) if k[:2] == (section_id, assignment_id)]
    body: dict[str, Any] = {"data": items[start:start + limit]}
    if start + limit < len(items):
        body["links"] = [{"rel": "next", "uri": f"{request.path}?cursor={start + limit}&limit={limit}"}]
    return jsonify(body)


@bp.route("/<assignment_id>/submissions/<user_id>", methods=["GET", "PATCH"])
def submission(section_id: str, assignment_id: str, user_id: str) -> Response:
    section = _section(section_id, writing=request.method == "PATCH")
    if isinstance(section, Response):
        return section
    state = sim()
    found = state.submissions.get((section_id, assignment_id, user_id))
    if found is None:
        return error(404, "submission not found")
    if request.method == "PATCH":
        body = _body(SUBMISSION_FIELDS)
        if isinstance(body, Response):
            return body
        with state.lock:
            state.lms_writes.append(("PATCH", request.path, dict(body)))
            found.update(body)
            found["last_modified"] = records.timestamp()
    return jsonify({"data": found})
