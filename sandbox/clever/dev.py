"""Dev mode only: the simulated Clever mounted at ``/sandbox/clever/sim`` and a page to try every Clever flow.

``make run`` points an unconfigured Clever (``GATEWAY_CLEVER_CLIENT_ID`` unset) at the simulator through
:func:`settings`, which the app factory applies before it builds anything; a Clever the developer configured is
left alone and the simulator is not mounted. :func:`mount_clever` then serves the simulator (one district, a
school, a class, a Clever Library teacher) beside the gateway, and ``/sandbox/clever/`` walks the flows: a
Library install, an Instant Login link, "Log in with Clever" and Secure Sync (the district connects, the
gateway syncs its roster). Login flows end on the vendor launch URL like any other launch.

The simulator's data lives in memory: the dev server runs one worker. Its ids are fixed, so a restart finds
the same people the gateway stored before.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, current_app
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from gateway.clever import CleverServices
from gateway.clever.errors import CleverApiError
from gateway.errors import GatewayError, NotFound
from gateway.ops.logs import log_event
from gateway.settings import Settings
from gateway.web import SERVICES, core, services
from sandbox.clever import CleverSim, create_app

log = logging.getLogger("gateway.sandbox.clever")
MOUNT = "/sandbox/clever/sim"
CLIENT_ID = "sandbox-clever-client"
CLIENT_SECRET = "sandbox-clever-secret"  # noqa: S105  # the simulator's fixed dev secret, never a real one
ID_PREFIX = "5a0dc1e0"  # fixed: the same ids after a restart
EXTENSION = "sandbox_clever_sim"

bp = Blueprint("sandbox_clever_dev", __name__, url_prefix="/sandbox/clever")


@dataclass(frozen=True)
class SandboxClever:
    """The running simulator and who is in it."""

    sim: CleverSim
    district_id: str
    school_id: str
    section_id: str
    teacher_id: str
    student_id: str
    library_teacher_id: str


def sim_base_url(settings: Settings) -> str:
    return settings.public_base_url.rstrip("/") + MOUNT


def settings(values: Settings) -> Settings:
    """Dev mode with no Clever client set: Clever's OAuth and API are the simulator under this server."""
    if not values.is_dev or values.clever_client_id or values.clever_client_secret:
        return values
    base = sim_base_url(values)
    return dataclasses.replace(values, clever_client_id=CLIENT_ID, clever_client_secret=CLIENT_SECRET,
                               clever_oauth_base_url=base, clever_api_base_url=base)


def seed(sim: CleverSim) -> SandboxClever:
    """A district (not yet connected: the Secure Sync flow connects it), one class, and a Library teacher."""
    district = sim.add_district("Maple Valley Schools", connect=False)
    school = sim.add_school(district, "Maple Valley Elementary")
    teacher = sim.add_user(district, first="Tess", last="Teacher", email="tess.teacher@maple.example.org",
                           roles={"teacher": {"school": school, "sis_id": "T-100"}})
    student = sim.add_user(district, first="Sam", last="Student", email="sam.student@maple.example.org",
                           roles={"student": {"school": school, "sis_id": "S-200", "grade": "5"}})
    other = sim.add_user(district, first="Ana", last="Alvarez",
                         roles={"student": {"school": school, "sis_id": "S-201", "grade": "5"}})
    section = sim.add_section(district, school, "Grade 5 Math", teachers=[teacher], students=[student, other])
    # Clever Library teachers sign up on their own; the simulator keeps them in a district nobody connected.
    library = sim.add_district("Clever Library (no district)", connect=False)
    library_teacher = sim.add_user(library, first="Lee", last="Library", email="lee.library@example.org",
                                   roles={"teacher": {}})
    return SandboxClever(sim, district, school, section, teacher, student, library_teacher)


def mount_clever(app: Flask) -> None:
    """Dev mode, Clever pointed at the simulator: serve it under ``/sandbox/clever/sim`` of ``app``."""
    built = app.extensions["gateway"]
    current = built.settings
    if not current.is_dev or current.clever_oauth_base_url.rstrip("/") != sim_base_url(current):
        return
    redirect_uri = app.extensions[SERVICES][CleverServices].config.redirect_uri
    sim = CleverSim(client_id=current.clever_client_id, client_secret=current.clever_client_secret,
                    id_prefix=ID_PREFIX)
    sim.redirect_uris.append(redirect_uri)
    sandbox = seed(sim)
    app.extensions[EXTENSION] = sandbox
    app.wsgi_app = DispatcherMiddleware(  # type: ignore[method-assign]  # the documented way to mount a WSGI app
        app.wsgi_app, {MOUNT: create_app(sim)}
    )
    log_event(log, logging.INFO, "simulated clever mounted", path=MOUNT)


def _sandbox() -> SandboxClever | None:
    found: SandboxClever | None = current_app.extensions.get(EXTENSION)
    return found


@bp.before_request
def _dev_only() -> None:
    if not core().settings.is_dev:
        raise NotFound("The sandbox exists in dev mode only.")


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:1.5rem auto;max-width:52rem;color:#1f2933;line-height:1.45}}
section{{border:1px solid #d9e2ec;border-radius:8px;padding:0 1rem 1rem;margin:1rem 0}}
.go{{display:inline-block;background:#1464ff;color:#fff;padding:.45rem .9rem;border-radius:6px;border:0;
text-decoration:none;font-size:1rem;cursor:pointer}} .note{{color:#52606d}}
td,th{{text-align:left;padding:.2rem .8rem .2rem 0}}
code{{background:#f4f6f8;padding:0 .25rem;border-radius:3px}}</style></head>
<body><p><a href="/">Sandbox home</a> · <a href="/sandbox/clever/">Clever sandbox</a></p><h1>{title}</h1>{body}
</body></html>"""


def _html(title: str, body: str, status: int = 200) -> Response:
    return Response(_PAGE.format(title=escape(title), body=body), status=status, mimetype="text/html")


def _sim_link(path: str, **query: str) -> str:
    return escape(MOUNT + path + ("?" + urlencode(query) if query else ""), quote=True)


def _sign_in_then(user_id: str, authorized_by: str, then: str) -> str:
    """A link that signs a person in to the simulated Clever (their password, in effect) and goes on to ``then``."""
    return _sim_link("/sim/signin", user_id=user_id, authorized_by=authorized_by, next=then)


def _not_mounted() -> Response:
    base = escape(core().settings.clever_oauth_base_url)
    return _html("Clever sandbox", (
        f"<p>Clever is configured for <code>{base}</code> (<code>GATEWAY_CLEVER_CLIENT_ID</code> is set), so the "
        "simulated Clever is not mounted. Unset <code>GATEWAY_CLEVER_CLIENT_ID</code> and "
        "<code>GATEWAY_CLEVER_CLIENT_SECRET</code> and restart <code>make run</code> to try the flows here.</p>"))


def _person(sim: CleverSim, user_id: str) -> str:
    name = sim.records["users"][user_id]["name"]
    return escape(f"{name['first']} {name['last']}")


@bp.get("/")
def index() -> Response:
    sandbox = _sandbox()
    if sandbox is None:
        return _not_mounted()
    sim = sandbox.sim
    district = escape(sim.records["districts"][sandbox.district_id]["name"])
    connected = any(t.district_id == sandbox.district_id for t in sim.district_tokens.values())
    library = _sign_in_then(sandbox.library_teacher_id, "teacher", "/sim/portal")
    instant = _sign_in_then(sandbox.student_id, "district", "/oauth/instant-login?" + urlencode(
        {"client_id": sim.client_id, "district_id": sandbox.district_id}))
    login = escape("/clever/login?" + urlencode({"district_id": sandbox.district_id}), quote=True)
    step = ("<p><strong>Done:</strong> the district has connected your app.</p>" if connected else
            '<form method="post" action="/sandbox/clever/connect"><button class="go" id="connect" type="submit">'
            "1. Connect the district (as its Clever administrator)</button></form>")
    body = f"""
<p class="note">A simulated Clever runs inside this dev server at <code>{escape(MOUNT)}/</code>, and the gateway's
Clever settings point at it, so every Clever flow works here without a Clever account. Each sign-in below ends
where a real one would: on your app's launch URL with a one-time code to redeem for the launch record.</p>

<section id="library"><h2>Clever Library install</h2>
<p>A teacher without a district deal finds your app in Clever Library and clicks <em>Install</em>. Clever sends
them straight to the gateway's callback with a one-time code. The teacher sees your app open, signed in; your app
receives a launch for <strong>{_person(sim, sandbox.library_teacher_id)}</strong> with what Library shares:
a teacher's name and email (for students, only a first name and last initial).</p>
<p><a class="go" id="try-library" href="{library}">Install as {_person(sim, sandbox.library_teacher_id)}</a></p>
</section>

<section id="instant-login"><h2>Instant Login</h2>
<p>A district hands out an Instant Login link for your app (on its Clever Portal, in a bookmark). A student already
signed in to Clever clicks it and lands in your app with no login page at all. Here
<strong>{_person(sim, sandbox.student_id)}</strong>, a student of {district}, follows that link.</p>
<p><a class="go" id="try-instant-login" href="{instant}">Open the link as {_person(sim, sandbox.student_id)}</a></p>
</section>

<section id="log-in"><h2>Log in with Clever</h2>
<p>Someone starts at your app and clicks <em>Log in with Clever</em>. The gateway sends the browser to Clever's
sign-in page for {district}; the person picks their account and Clever sends them back to your app,
signed in. Pick anyone on the simulated Clever's sign-in page.</p>
<p><a class="go" id="try-log-in" href="{login}">Log in with Clever</a></p>
</section>

<section id="secure-sync"><h2>Secure Sync (district roster)</h2>
<p>A district administrator approves your app in Clever's dashboard. The gateway then finds the district's token
and copies its schools, classes, teachers and students, so your app can read rosters through the vendor API
(<code>/api/v1/clever/...</code>) before anyone logs in. Outside the sandbox the gateway checks for new districts
every hour; <code>gateway clever districts sync</code> and <code>gateway clever roster sync</code> do it at once.</p>
{step}
<form method="post" action="/sandbox/clever/sync"><button class="go" id="sync" type="submit">
{"2. " if not connected else ""}Sync now and show what the gateway holds</button></form>
</section>
"""
    return _html("Clever sandbox", body)


@bp.post("/connect")
def connect() -> Response:
    sandbox = _sandbox()
    if sandbox is None:
        return _not_mounted()
    sim = sandbox.sim
    if not any(t.district_id == sandbox.district_id for t in sim.district_tokens.values()):
        sim.connect_district(sandbox.district_id)
    return Response(status=303, headers={"Location": "/sandbox/clever/#secure-sync"})


@bp.post("/sync")
def sync() -> Response:
    """What the periodic jobs do, now: find connected districts, then sync this one's roster."""
    sandbox = _sandbox()
    if sandbox is None:
        return _not_mounted()
    clever = services(CleverServices)
    try:
        found = clever.tokens.sync(actor="sandbox")
        outcome = clever.sync.sync(sandbox.district_id, full=True) if sandbox.district_id in _connected(
            clever) else None
    except (CleverApiError, GatewayError) as e:
        return _html("Secure Sync failed", f"<p>{escape(e.code)}: {escape(e.message)}</p>", 502)
    if outcome is None:
        return _html("District not connected", (
            f"<p>Clever lists no connected district ({_summary(found.summary())}). Connect the district first: "
            '<a href="/sandbox/clever/#secure-sync">back to the Clever sandbox</a>.</p>'), 409)
    return Response(status=303, headers={"Location": f"/sandbox/clever/districts/{sandbox.district_id}"})


def _connected(clever: CleverServices) -> set[str]:
    rows, _ = clever.roster.districts(None, 100)
    return {r["id"] for r in rows if r["status"] == "connected"}


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items() if count) or "nothing changed"


@bp.get("/districts/<district_id>")
def district(district_id: str) -> Response:
    """The synced district as the gateway holds it (what ``/api/v1/clever/districts/...`` serves)."""
    clever = services(CleverServices)
    try:
        found = clever.roster.district(district_id)
        sections = clever.roster.sections(district_id, None, 100, False).data
    except GatewayError as e:
        return _html("District not synced", f"<p>{escape(e.code)}: {escape(e.message)}</p>", e.status)
    rows = []
    for section in sections:
        people = clever.roster.section_users(section["id"], None, None, 100, False).data
        names = ", ".join(f"{escape(_name(p))} ({escape(p['section_role'])})" for p in people)
        rows.append(f'<tr class="section"><td>{escape(section["name"] or "")}</td><td>{names}</td></tr>')
    sync_state = found["sync"]
    body = f"""
<p>The gateway holds <strong id="district-name">{escape(found["name"] or "")}</strong>: status
<strong id="district-status">{escape(found["status"])}</strong>, last sync
<strong id="sync-status">{escape(str(sync_state["status"]))}</strong> at {escape(str(sync_state["synced_at"]))}.</p>
<table><tr><th>Class</th><th>People</th></tr>{"".join(rows)}</table>
<p class="note">Your app reads the same through the vendor API:
<code>GET /api/v1/clever/districts/{escape(district_id)}</code>, its sections and their users
(an API key with the roster scope).</p>
<p><a href="/sandbox/clever/">Back to the Clever sandbox</a></p>"""
    return _html("Synced district", body)


def _name(person: dict[str, Any]) -> str:
    name = person.get("name") or {}
    return " ".join(part for part in (name.get("first"), name.get("last")) if part) or str(person["id"])
