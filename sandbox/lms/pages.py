"""HTML of the simulated platform: the course page, the frame that hosts the tool, the storage frame, forms."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from sandbox.lms.platform import SandboxPlatform

_SHELL = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:1.5rem;color:#1f2933}} header{{background:#394b59;color:#fff;
padding:.6rem 1rem;border-radius:6px}} iframe.tool{{width:100%;height:640px;border:1px solid #ccd;border-radius:6px}}
form{{display:inline-block;margin:.25rem}} fieldset{{margin:1rem 0;border:1px solid #ccd;border-radius:6px}}</style>
</head><body><header><strong>Sandbox LMS</strong> · {course}</header>{body}</body></html>"""


def _js(value: Any) -> str:
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def page(platform: SandboxPlatform, title: str, body: str) -> str:
    return _SHELL.format(title=escape(title), course=escape(platform.course.title), body=body)


def auto_post(action: str, fields: dict[str, str]) -> str:
    inputs = "".join(
        f'<input type="hidden" name="{escape(k, quote=True)}" value="{escape(v, quote=True)}">'
        for k, v in fields.items()
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Launching…</title></head><body>'
        f'<form id="auto" method="post" action="{escape(action, quote=True)}">{inputs}'
        '<noscript><button type="submit">Continue</button></noscript></form>'
        "<script>document.getElementById('auto').submit();</script></body></html>"
    )


STORAGE_EXPLAINED = (
    "Browsers now block cookies inside frames on other sites, and a launch needs to remember the sign-in it "
    "started. LMSs such as Canvas offer the tool a small storage space in the LMS page itself (the LTI "
    "&ldquo;postMessage storage&rdquo;): tick <em>Keep the sign-in in the LMS page</em> to launch that way; "
    "leave it unticked to use the gateway's cookie."
)
ITEM_KINDS = {"ltiResourceLink": "Activity", "link": "Web link", "html": "Text", "file": "File", "image": "Image"}


def _launch_forms(course_url: str, launches: list[tuple[str, str, str]], extra: dict[str, str]) -> str:
    hidden = "".join(f'<input type="hidden" name="{escape(k, quote=True)}" value="{escape(v, quote=True)}">'
                     for k, v in extra.items())
    return "".join(
        f'<form method="get" action="{escape(course_url, quote=True)}">'
        f'<input type="hidden" name="user" value="{user}"><input type="hidden" name="message" value="{message}">'
        f"{hidden}"
        '<label title="postMessage storage"><input type="checkbox" name="storage" value="1"> '
        "Keep the sign-in in the LMS page</label> "
        f'<button type="submit">{escape(label)}</button></form><br>'
        for user, message, label in launches
    )


def course_content(course_url: str, returns: list[dict[str, Any]]) -> str:
    """What teachers added through Deep Linking, as a course page lists it (activities can be opened)."""
    items = [item for answer in returns for item in answer["items"]]
    if not items:
        return ('<p id="content-empty">Nothing added yet: use <em>Add content (deep linking) as the teacher</em> '
                "and pick items in the tool.</p>")
    rows = []
    for number, item in enumerate(items, start=1):
        kind = ITEM_KINDS.get(str(item.get("type")), str(item.get("type")))
        title = escape(str(item.get("title") or item.get("url") or "(untitled)"))
        detail = ""
        if item.get("type") == "link" and isinstance(item.get("url"), str):
            detail = f' · <a href="{escape(item["url"], quote=True)}" rel="noopener">{escape(item["url"])}</a>'
        if item.get("type") == "ltiResourceLink":
            line_item = item.get("lineItem") if isinstance(item.get("lineItem"), dict) else None
            if line_item:
                detail += f" · graded out of {escape(str(line_item.get('scoreMaximum')))}"
            detail += "<br>" + _launch_forms(course_url, [("student", "resource", "Open as a student"),
                                                         ("teacher", "resource", "Open as the teacher")],
                                            {"item": str(number)})
        rows.append(f'<li class="content-item"><strong>{escape(kind)}</strong>: {title}{detail}</li>')
    return f'<ul id="content">{"".join(rows)}</ul>'


def home(platform: SandboxPlatform, course_url: str, start_url: str, gradebook_url: str) -> str:
    launches = [
        ("teacher", "resource", "Open the activity as the teacher"),
        ("student", "resource", "Open the activity as a student"),
        ("teacher", "deep_linking", "Add content (deep linking) as the teacher"),
    ]
    top = "".join(
        f'<a href="{escape(start_url, quote=True)}?user={user}&amp;message=resource" target="_blank">'
        f"Open as {user} in a new window</a> · "
        for user in ("teacher", "student")
    )
    with platform.lock:
        returns = list(platform.deep_link_returns)
    body = (
        f"<h1>{escape(platform.course.title)}</h1>"
        "<p>A simulated LTI 1.3 platform (LMS). Each button launches the gateway in a frame, as a district LMS "
        "does; the gateway checks the launch and sends the browser on to the vendor app with a one-time code.</p>"
        f"<fieldset><legend>Launch in a frame</legend>{_launch_forms(course_url, launches, {})}"
        f'<p><small id="storage-explained">{STORAGE_EXPLAINED}</small></p></fieldset><p>{top}</p>'
        f"<h2>Course content</h2>{course_content(course_url, returns)}"
        f'<h2>Gradebook</h2><p><a id="gradebook-link" href="{escape(gradebook_url, quote=True)}">Open the '
        "gradebook</a>: the columns (line items) the gateway made, the scores it posted, every call it made.</p>"
        f"<p><small>Issuer <code>{escape(platform.issuer)}</code>, "
        f"client id <code>{escape(platform.client_id)}</code>, "
        f"deployment <code>{escape(platform.deployment_id)}</code>. "
        '<a href="/">Sandbox home</a>.</small></p>'
    )
    return page(platform, "Sandbox LMS", body)


def course_frame(platform: SandboxPlatform, login_url: str, storage_url: str | None, storage_target: str) -> str:
    """The LMS page that frames the tool; with storage, a named frame at the platform's origin keeps data."""
    if storage_url is None:
        frames = f'<iframe class="tool" name="tool" id="tool" src="{escape(login_url, quote=True)}"></iframe>'
        return page(platform, "Course activity", frames)
    frames = (
        f'<iframe name="{escape(storage_target, quote=True)}" id="storage" '
        f'src="{escape(storage_url, quote=True)}" hidden></iframe>'
        '<iframe class="tool" name="tool" id="tool"></iframe>'
        # The tool starts only once the storage frame listens, as an LMS page loads its own frames first.
        "<script>document.getElementById('storage').addEventListener('load', function () {"
        f"document.getElementById('tool').src = {_js(login_url)}; }});</script>"
    )
    return page(platform, "Course activity", frames)


STORAGE_FRAME = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>storage</title></head><body>
<script>
// lti-pm-s v0p1: data is kept per sending origin, so one tool cannot read another's.
window.ltiStore = {};
window.ltiMessages = [];
window.addEventListener("message", function (event) {
  var data = event.data;
  if (!data || typeof data.subject !== "string" || !event.source) { return; }
  window.ltiMessages.push({origin: event.origin, subject: data.subject, key: data.key});
  var bucket = window.ltiStore[event.origin] = window.ltiStore[event.origin] || {};
  var reply = {message_id: data.message_id};
  if (data.subject === "lti.capabilities") {
    reply.subject = "lti.capabilities.response";
    reply.supported_messages = [{subject: "lti.get_data"}, {subject: "lti.put_data"}];
  } else if (data.subject === "lti.put_data") {
    bucket[data.key] = data.value;
    reply.subject = "lti.put_data.response"; reply.key = data.key; reply.value = data.value;
  } else if (data.subject === "lti.get_data") {
    reply.subject = "lti.get_data.response"; reply.key = data.key; reply.value = bucket[data.key];
  } else {
    reply.subject = data.subject + ".response";
    reply.error = {code: "unsupported_subject", message: "not supported"};
  }
  event.source.postMessage(reply, event.origin);
});
</script></body></html>"""


def deep_link_received(platform: SandboxPlatform, items: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<li><strong>{escape(str(i.get('type')))}</strong> {escape(str(i.get('title') or i.get('url') or ''))}</li>"
        for i in items
    )
    course = escape(platform.base_url, quote=True) + "/"
    back = f'<p><a id="back-to-course" href="{course}" target="_top">Back to the course</a></p>'
    if not items:
        body = ("<h1>Nothing added</h1><p id='nothing'>The tool returned no content (the teacher cancelled); "
                f"the course is unchanged.</p>{back}")
        return page(platform, "Nothing added", body)
    body = (f"<h1>Content added</h1><p>The platform received {len(items)} item(s):</p><ul id='items'>{rows}</ul>"
            f"<p>They are now listed on the course page.</p>{back}")
    return page(platform, "Content added", body)
