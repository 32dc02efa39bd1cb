"""HTML of the dev vendor page (:mod:`sandbox.vendor`): the launch record, a held code, a used code, the picker.

Plain words for someone trying the gateway for the first time: each page says what happened and what to do next.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

LMS_HOME = "/sandbox/lms/"

SAMPLE_ITEMS: dict[str, dict[str, Any]] = {
    "quiz": {"type": "ltiResourceLink", "title": "Fractions quiz", "custom": {"activity": "quiz-42"},
             "lineItem": {"scoreMaximum": 10, "label": "Fractions quiz", "resourceId": "quiz-42"}},
    "link": {"type": "link", "title": "Fractions explained", "url": "https://example.com/fractions"},
    "html": {"type": "html", "title": "Warm-up", "html": "<p>What is 1/2 + 1/4?</p>"},
}

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:1.5rem;color:#1f2933;max-width:60rem}} pre{{background:#f4f6f8;
padding:1rem;border-radius:6px;overflow:auto;white-space:pre-wrap;word-break:break-all}}
.badge{{background:#e3f2e6;padding:.1rem .5rem;border-radius:4px}} .note{{background:#fff8e1;padding:.6rem 1rem;
border-radius:6px}} .error{{background:#fdecea;padding:.6rem 1rem;border-radius:6px}}</style></head>
<body><h1>{title}</h1>{body}</body></html>"""


def page(title: str, body: str) -> str:
    return _PAGE.format(title=escape(title), body=body)


def _launch_again() -> str:
    return (f'<p><a id="launch-again" href="{LMS_HOME}" target="_top">Launch again from the sandbox LMS</a>: '
            "every launch brings a fresh code.</p>")


def redeem_command(base_url: str, code: str) -> str:
    """The exact shell command that redeems ``code`` (the quick start's step, with the code filled in)."""
    return (
        "curl -s -X POST -H \"Authorization: Bearer $GATEWAY_API_KEY\" -H 'Content-Type: application/json' \\\n"
        f"  -d '{{\"code\":\"{code}\"}}' {base_url}/api/v1/launches/redeem"
    )


def record_page(record: dict[str, Any], *, picker_error: str | None = None) -> str:
    who, role = _who(record)
    body = f'<p>Signed in as <strong id="who">{escape(who)}</strong> <span class="badge" id="role">{role}</span></p>'
    if record.get("deep_linking"):
        body += deep_link_form(record, picker_error)
    body += (
        "<h2>Launch record</h2><p>What the vendor's back end got for the one-time code "
        "(<code>POST /api/v1/launches/redeem</code>).</p>"
        f'<pre id="record">{escape(json.dumps(record, indent=2))}</pre>'
    )
    return page("Vendor app (sandbox)", body)


def _who(record: dict[str, Any]) -> tuple[str, str]:
    """The person and their role, from an LTI launch (``user``, ``roles`` flags) or a Clever one (``name``, roles)."""
    if record.get("kind") == "clever":
        name = record.get("name") or {}
        full = " ".join(part for part in (name.get("first"), name.get("last")) if part)
        clever_roles = record.get("roles") or []
        role = "teacher" if "teacher" in clever_roles else "student" if "student" in clever_roles else "user"
        return full or str(record.get("clever_user_id") or "someone"), role
    user, flags = record.get("user") or {}, record.get("roles") or {}
    role = "teacher" if flags.get("instructor") else "student" if flags.get("learner") else "user"
    return str(user.get("name") or user.get("id") or "someone"), role


def deep_link_form(record: dict[str, Any], error: str | None = None) -> str:
    accepted = set(record["deep_linking"]["accept_types"])
    options = "".join(
        f'<label><input type="checkbox" name="item" value="{key}"> {escape(item["title"])} ({item["type"]})</label><br>'
        for key, item in SAMPLE_ITEMS.items() if item["type"] in accepted
    )
    refusal = f'<p class="error" id="picker-error" role="alert">{escape(error)}</p>' if error else ""
    return (
        f'<form method="post" action="/sandbox/vendor/deep-link/{escape(record["id"], quote=True)}">'
        f"<h2>Pick content for the course</h2>{refusal}{options}"
        '<button type="submit">Add to course</button> '
        '<button type="submit" name="cancel" value="1" formnovalidate>Cancel: add nothing</button></form>'
    )


def held_page(code: str, base_url: str, ttl_seconds: int) -> str:
    body = (
        '<p class="note">This page is <strong>holding</strong> the one-time code instead of redeeming it, so you can '
        "redeem it yourself, as your app's back end will.</p>"
        f'<p>Code: <code id="code">{escape(code)}</code></p>'
        f"<p>Redeem it from your shell within {ttl_seconds} seconds, once (make the key with "
        "<code>.venv/bin/gateway api-keys create --name quickstart --scope launches --scope writeback</code>):</p>"
        f'<pre id="curl">{escape(redeem_command(base_url, code))}</pre>'
        f'<form method="post" action="/sandbox/vendor/launch"><input type="hidden" name="code" '
        f'value="{escape(code, quote=True)}"><button type="submit">Redeem it on this page instead</button></form>'
        f"{hold_form(True, '/sandbox/vendor/')}"
    )
    return page("Vendor app (sandbox): code held", body)


def used_page(launch_id: str | None, record: dict[str, Any] | None) -> str:
    """A reload, or a code someone already redeemed: what a one-time code is and how to get a new one."""
    body = (
        '<p class="note" id="used">This hand-off code was already used. A code works <strong>once</strong>: the '
        "vendor's back end trades it for the launch record, and a second try (a page reload sends the same code "
        "again) is refused with <code>409 HANDOFF_CODE_ALREADY_REDEEMED</code>.</p>"
    )
    if record is not None:
        body += (f"<p>This page redeemed it; the record of launch <code>{escape(record['id'])}</code> is below "
                 "(a back end reads it again with <code>GET /api/v1/launches/{id}</code> and the same key).</p>")
    elif launch_id is not None:
        body += (f"<p>Launch <code>{escape(launch_id)}</code>: the key that redeemed it can read it again with "
                 f"<code>GET /api/v1/launches/{escape(launch_id)}</code>.</p>")
    body += _launch_again()
    if record is not None:
        body += f'<h2>Launch record</h2><pre id="record">{escape(json.dumps(record, indent=2))}</pre>'
    return page("Vendor app (sandbox): code already used", body)


def refused_page(code: str, message: str, status: int) -> str:
    explained = {
        410: "The code expired: a back end must redeem it within seconds of the browser arriving.",
        404: "The gateway never issued this code, or its launch has been purged.",
        400: "This is not a code the gateway issues (it has 43 letters, digits, - and _).",
    }.get(status, message)
    body = (f'<p class="error" id="refusal"><code>{escape(code)}</code>: {escape(explained)}</p>'
            f"{_launch_again()}")
    return page("Vendor app (sandbox): launch not redeemed", body)


def hold_form(holding: bool, back_to: str) -> str:
    """The switch between the page redeeming codes itself and holding them for the shell."""
    now = ("holds each code for you to redeem from your shell" if holding
           else "redeems each code itself and shows the launch record")
    value, label = ("off", "Redeem codes on the page again") if holding else ("on", "Hold codes for my shell")
    return (
        f'<form method="post" action="/sandbox/vendor/hold" id="hold-form"><p>The vendor page <span id="hold-state">'
        f"{now}</span>. <input type=\"hidden\" name=\"hold\" value=\"{value}\">"
        f'<input type="hidden" name="next" value="{escape(back_to, quote=True)}">'
        f'<button type="submit" id="hold-toggle">{label}</button></p></form>'
    )


def about_page(holding: bool) -> str:
    body = (
        "<p>After a launch the gateway sends the browser here, the vendor app's launch URL "
        "(<code>GATEWAY_VENDOR_LAUNCH_URL</code>), with a one-time <code>?code=</code>. A real app's back end "
        "redeems the code with its API key for the launch record: who the user is, their role, the course, "
        "and what writeback is possible. This stand-in page does it for you, or holds the code so you can.</p>"
        f"{hold_form(holding, '/sandbox/vendor/')}"
        f'<p><a href="{LMS_HOME}">Open the sandbox LMS</a> to launch. <a href="/">Back to the sandbox home</a>.</p>'
    )
    return page("Vendor app (sandbox)", body)
