"""The simulated LMS's gradebook page: what a teacher would see after the vendor app posted grades.

Three parts, all read from what the platform received (:class:`sandbox.lms.platform.SandboxPlatform`): the
columns (AGS line items the gateway made or found), the scores posted into each, and every call the gateway
made to the platform (token requests, line items, scores, roster reads, JWKS), newest first: the readable
form of ``/sandbox/lms/recorded``.
"""

from __future__ import annotations

from html import escape
from typing import Any

from sandbox.lms.pages import page
from sandbox.lms.platform import Recorded, SandboxPlatform

CALL_KINDS = {
    "token": "access token (OAuth2 client credentials)",
    "ags": "grades service (AGS)",
    "nrps": "course roster (Names and Roles)",
    "jwks": "platform keys (JWKS)",
    "tool_jwks": "the tool's keys, fetched by the LMS",
    "auth": "sign-in (OIDC authentication request)",
    "deep_link_return": "content returned by Deep Linking",
}
SHOWN_CALLS = 100


def _cell(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 8.0 reads as 8, as a gradebook shows it
    return "" if value is None else escape(str(value))


def _who(platform: SandboxPlatform, user_id: Any) -> str:
    user = platform.users.get(str(user_id))
    return f"{escape(user.name)} ({escape(user.sub)})" if user else _cell(user_id)


def _line_items(items: dict[str, dict[str, Any]]) -> str:
    if not items:
        return ('<p id="no-line-items">No columns yet: the gateway makes one when the vendor app creates an '
                "assignment (<code>POST /api/v1/contexts/{context_id}/assignments</code>).</p>")
    rows = "".join(
        f'<tr class="line-item"><td>{_cell(item.get("label"))}</td><td>{_cell(item.get("scoreMaximum"))}</td>'
        f'<td>{_cell(item.get("resourceId"))}</td><td>{_cell(item.get("tag"))}</td>'
        f'<td>{_cell(item.get("resourceLinkId"))}</td><td><code>{_cell(item_id)}</code></td></tr>'
        for item_id, item in items.items()
    )
    return ('<table id="line-items"><tr><th>Column</th><th>Out of</th><th>Resource id</th><th>Tag</th>'
            f"<th>Placement</th><th>Line item</th></tr>{rows}</table>")


def _scores(platform: SandboxPlatform, items: dict[str, dict[str, Any]], scores: dict[str, list[dict[str, Any]]]
            ) -> str:
    posted = [(item_id, score) for item_id, history in scores.items() for score in history]
    if not posted:
        return ('<p id="no-scores">No scores yet: post one with '
                "<code>PUT /api/v1/contexts/{context_id}/assignments/{assignment_id}/grades/{user_id}</code>; "
                "the gateway delivers it within seconds.</p>")
    rows = "".join(
        f'<tr class="score"><td>{_cell(items.get(item_id, {}).get("label", item_id))}</td>'
        f'<td>{_who(platform, score.get("userId"))}</td>'
        f'<td class="given">{_cell(score.get("scoreGiven"))}</td><td>{_cell(score.get("scoreMaximum"))}</td>'
        f'<td>{_cell(score.get("comment"))}</td><td>{_cell(score.get("activityProgress"))} / '
        f'{_cell(score.get("gradingProgress"))}</td><td>{_cell(score.get("timestamp"))}</td></tr>'
        for item_id, score in posted
    )
    return ('<table id="scores"><tr><th>Column</th><th>Student</th><th>Score</th><th>Out of</th><th>Comment</th>'
            f"<th>Progress (activity / grading)</th><th>Given at</th></tr>{rows}</table>")


def _calls(recorded: list[Recorded]) -> str:
    if not recorded:
        return '<p id="no-calls">The gateway has not called this LMS yet.</p>'
    rows = "".join(
        f'<tr class="call"><td>{escape(CALL_KINDS.get(r.kind, r.kind))}</td><td>{escape(r.method)}</td>'
        f"<td><code>{escape(r.path)}</code></td><td>{r.status}</td></tr>"
        for r in reversed(recorded[-SHOWN_CALLS:])
    )
    return ('<table id="calls"><tr><th>What</th><th>Method</th><th>Path</th><th>Answer</th></tr>'
            f"{rows}</table>")


def gradebook(platform: SandboxPlatform, course_url: str, recorded_url: str) -> str:
    with platform.lock:
        items = dict(platform.line_items)
        scores = {k: list(v) for k, v in platform.scores.items()}
        recorded = list(platform.recorded)
    body = (
        "<style>table{border-collapse:collapse;margin:.5rem 0 1.5rem} td,th{border:1px solid #ccd;"
        "padding:.3rem .6rem;text-align:left;vertical-align:top}</style>"
        f"<h1>Gradebook</h1><p>What this LMS received from the gateway. "
        f'<a id="reload" href="">Reload</a> to see new arrivals · <a href="{escape(course_url, quote=True)}">'
        f'Back to the course</a> · <a href="{escape(recorded_url, quote=True)}">the same as JSON</a></p>'
        f"<h2>Columns (line items)</h2>{_line_items(items)}"
        f"<h2>Scores received</h2>{_scores(platform, items, scores)}"
        f"<h2>Calls from the gateway (newest first, last {SHOWN_CALLS})</h2>{_calls(recorded)}"
    )
    return page(platform, "Gradebook", body)
