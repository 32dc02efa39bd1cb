"""Dev mode only: the vendor app's landing page at the default ``GATEWAY_VENDOR_LAUNCH_URL``.

It does what a vendor back end does (redeem the one-time code for the launch record) and shows the
record, so ``make run`` shows the whole hand-off. For a deep-linking launch it offers a few content
items and posts the signed response back to the platform. It calls the gateway's services directly
with a fixed dev caller instead of an API key: it runs inside the gateway and only in dev mode.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from flask import Blueprint, Response, request

from gateway.api.keys import ApiKey
from gateway.errors import GatewayError, NotFound
from gateway.handoff import HandoffService
from gateway.lti import LtiServices
from gateway.web import core, services

bp = Blueprint("sandbox_vendor", __name__, url_prefix="/sandbox/vendor")
DEV_CALLER = ApiKey(id="sandbox-vendor-page", name="dev vendor page", scopes=frozenset({"launches"}))

SAMPLE_ITEMS: dict[str, dict[str, Any]] = {
    "quiz": {"type": "ltiResourceLink", "title": "Fractions quiz", "custom": {"activity": "quiz-42"},
             "lineItem": {"scoreMaximum": 10, "label": "Fractions quiz", "resourceId": "quiz-42"}},
    "link": {"type": "link", "title": "Fractions explained", "url": "https://example.com/fractions"},
    "html": {"type": "html", "title": "Warm-up", "html": "<p>What is 1/2 + 1/4?</p>"},
}

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:1.5rem;color:#1f2933}} pre{{background:#f4f6f8;padding:1rem;
border-radius:6px;overflow:auto}} .badge{{background:#e3f2e6;padding:.1rem .5rem;border-radius:4px}}</style></head>
<body><h1>{title}</h1>{body}</body></html>"""


@bp.before_request
def _dev_only() -> None:
    if not core().settings.is_dev:
        raise NotFound("The sandbox exists in dev mode only.")


def _html(title: str, body: str, status: int = 200) -> Response:
    return Response(_PAGE.format(title=escape(title), body=body), status=status, mimetype="text/html")


def _deep_link_form(record: dict[str, Any]) -> str:
    accepted = set(record["deep_linking"]["accept_types"])
    options = "".join(
        f'<label><input type="checkbox" name="item" value="{key}"> {escape(item["title"])} ({item["type"]})</label><br>'
        for key, item in SAMPLE_ITEMS.items() if item["type"] in accepted
    )
    return (
        f'<form method="post" action="/sandbox/vendor/deep-link/{escape(record["id"], quote=True)}">'
        f"<h2>Pick content for the course</h2>{options}<button type=\"submit\">Add to course</button></form>"
    )


@bp.get("/launch")
def launch() -> Response:
    try:
        record = services(HandoffService).redeem(request.args.get("code", ""), DEV_CALLER)
    except GatewayError as e:
        return _html("Launch not redeemed", f"<p>{escape(e.code)}: {escape(e.message)}</p>", e.status)
    who, role = _who(record)
    body = f'<p>Signed in as <strong id="who">{escape(who)}</strong> <span class="badge" id="role">{role}</span></p>'
    if record.get("deep_linking"):
        body += _deep_link_form(record)
    body += f'<h2>Launch record</h2><pre id="record">{escape(json.dumps(record, indent=2))}</pre>'
    return _html("Vendor app (sandbox)", body)


def _who(record: dict[str, Any]) -> tuple[str, str]:
    """The person and their role, from an LTI launch (``user``, ``roles`` flags) or a Clever one (``name``, roles)."""
    if record.get("kind") == "clever":
        name = record.get("name") or {}
        full = " ".join(part for part in (name.get("first"), name.get("last")) if part)
        roles = record.get("roles") or []
        role = "teacher" if "teacher" in roles else "student" if "student" in roles else "user"
        return full or str(record.get("clever_user_id") or "someone"), role
    user, flags = record.get("user") or {}, record.get("roles") or {}
    role = "teacher" if flags.get("instructor") else "student" if flags.get("learner") else "user"
    return str(user.get("name") or user.get("id") or "someone"), role


@bp.post("/deep-link/<launch_id>")
def deep_link(launch_id: str) -> Response:
    items = [SAMPLE_ITEMS[key] for key in request.form.getlist("item") if key in SAMPLE_ITEMS]
    try:
        answer = services(LtiServices).deep_linking.respond(launch_id, DEV_CALLER, {"content_items": items})
    except GatewayError as e:
        return _html("Deep link refused", f"<p>{escape(e.code)}: {escape(e.message)}</p>", e.status)
    return Response(answer["form_html"], mimetype="text/html")
