"""Simulated Data API (``v3.0.yml``, ``v3.1.yml``) and Events API (``v3.1-events.yml``).

District-app tokens see their district's shared records; login (SSO) tokens see only their own user and
district (https://dev.clever.com/docs/oauth-implementation), and a Library token sees the Library cut of the user.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from sandbox.clever import records
from sandbox.clever.common import Caller, caller, error, one, page, sim, unauthorized

bp = Blueprint("clever_sim_data", __name__)

VERSION = '<any("v3.0","v3.1"):version>'


def _district_caller() -> Caller | Response:
    who = caller()
    if who.kind == "district":
        return who
    if who.kind == "sso":
        return error(401, "Resource not in token's scopes")
    return unauthorized()


def _listing(kind: str, version: str, items: list[dict[str, Any]]) -> Response:
    return page([records.for_version(kind, item, version) for item in items])


@bp.get(f"/{VERSION}/<any(districts,schools,users,sections):kind>")
def list_records(version: str, kind: str) -> Response:
    who = _district_caller()
    if isinstance(who, Response):
        return who
    items = sim().visible(kind, who.district_id)
    role = request.args.get("role")
    if kind == "users" and role:
        items = [u for u in items if role in u.get("roles", {})]
    return _listing(kind, version, items)


@bp.get(f"/{VERSION}/<any(districts,schools,users,sections):kind>/<record_id>")
def get_record(version: str, kind: str, record_id: str) -> Response:
    who = caller()
    state = sim()
    if who.kind == "sso" and who.sso is not None:
        # Login tokens reach /users/{their id} and /districts/{their district} only.
        if kind == "users" and record_id == who.sso.user_id:
            record = state.records["users"].get(record_id)
            if record is not None and who.sso.authorized_by == "teacher":
                return one(records.library_view(record), "user")
            return one(records.for_version(kind, record, version) if record else None, "user")
        if kind == "districts" and record_id == who.sso.district_id and who.sso.authorized_by == "district":
            return one(records.for_version(kind, state.records["districts"][record_id], version), "district")
        return error(404, "Resource not found")
    if who.kind != "district":
        return unauthorized()
    record = state.find(kind, record_id, who.district_id)
    return one(records.for_version(kind, record, version) if record else None, kind[:-1])


@bp.get(f"/{VERSION}/sections/<section_id>/users")
def section_users(version: str, section_id: str) -> Response:
    who = _district_caller()
    if isinstance(who, Response):
        return who
    state = sim()
    section = state.find("sections", section_id, who.district_id)
    if section is None:
        return error(404, "section not found")
    role = request.args.get("role")
    wanted = ([] if role == "student" else section["teachers"]) + ([] if role == "teacher" else section["students"])
    users = [u for u in (state.find("users", uid, who.district_id) for uid in wanted) if u is not None]
    return _listing("users", version, sorted(users, key=lambda u: u["id"]))


@bp.get(f"/{VERSION}/users/<user_id>/sections")
def user_sections(version: str, user_id: str) -> Response:
    who = _district_caller()
    if isinstance(who, Response):
        return who
    state = sim()
    if state.find("users", user_id, who.district_id) is None:
        return error(404, "user not found")
    sections = [s for s in state.visible("sections", who.district_id)
                if user_id in s["teachers"] or user_id in s["students"]]
    return _listing("sections", version, sections)


@bp.get(f"/{VERSION}/events")
def events(version: str) -> Response:
    who = _district_caller()
    if isinstance(who, Response):
        return who
    state = sim()
    after = request.args.get("starting_after")
    with state.lock:
        if after and state.expired_before and after <= state.expired_before:
            return error(404, "starting_after refers to an event that no longer exists")
        types = set(request.args.getlist("record_type"))
        chosen = [e for e in state.events
                  if e["_district"] == who.district_id and (not types or e["type"].partition(".")[0] in types)]
        shaped = [_event_view(e, version) for e in chosen]
    return page(shaped)


@bp.get(f"/{VERSION}/events/<event_id>")
def event(version: str, event_id: str) -> Response:
    who = _district_caller()
    if isinstance(who, Response):
        return who
    state = sim()
    with state.lock:
        found = next((e for e in state.events if e["id"] == event_id and e["_district"] == who.district_id), None)
        return one(_event_view(found, version) if found else None, "event")


def _event_view(event: dict[str, Any], version: str) -> dict[str, Any]:
    kind = event["type"].partition(".")[0]
    view = {k: v for k, v in event.items() if not k.startswith("_")}
    view["data"] = {"object": records.for_version(kind, event["data"]["object"], version)}
    return view
