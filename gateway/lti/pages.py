"""The few HTML pages of an LTI launch: postMessage storage at login and launch, and "open in a new window".

The postMessage protocol is 1EdTech's Client-side postMessages and Platform Storage (lti-cs-pm, lti-pm-s
v0p1): the tool posts ``lti.put_data`` / ``lti.get_data`` to the frame the platform named
in ``lti_storage_target`` (``_parent`` means the parent window), with the platform's OIDC auth origin as
target origin, and waits for the ``*.response`` message with the same ``message_id``.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

# How long the page waits for the platform's storage frame before giving up on it.
STORAGE_TIMEOUT_MS = 3000

# Referrer policy `same-origin`: no referrer leaves for the platform, yet the check page's post back to the
# gateway keeps its Origin header (under `no-referrer` browsers send `Origin: null`, failing the same-origin test).
_SHELL = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin"><title>{title}</title>
<style>body{{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:40rem;margin:3rem auto;
padding:0 1rem;color:#1f2933;line-height:1.5}} .box{{border:1px solid #d5dde7;border-radius:8px;padding:1rem 1.25rem}}
.button{{display:inline-block;background:#1f6feb;color:#fff;padding:.5rem 1rem;border-radius:6px;text-decoration:none}}
</style></head><body><main class="box">{body}</main>{script}</body></html>"""

# Shared by both pages: talk to the platform's storage frame and wait for the matching answer.
_STORAGE_JS = """
function ltiStorage(target, origin, subject, payload, timeoutMs) {
  return new Promise(function (resolve, reject) {
    var frame = target === "_parent" ? window.parent : (window.parent && window.parent.frames[target]);
    if (!frame || frame === window) { reject(new Error("no storage frame")); return; }
    var id = "gw-" + Math.random().toString(36).slice(2) + Date.now().toString(36);
    var timer = setTimeout(function () {
      window.removeEventListener("message", onMessage);
      reject(new Error("timeout"));
    }, timeoutMs);
    function onMessage(event) {
      var data = event.data;
      if (event.origin !== origin || !data) { return; }
      if (data.subject !== subject + ".response" || data.message_id !== id) { return; }
      clearTimeout(timer);
      window.removeEventListener("message", onMessage);
      if (data.error) { reject(new Error(data.error.code || "error")); } else { resolve(data); }
    }
    window.addEventListener("message", onMessage);
    var message = Object.assign({subject: subject, message_id: id}, payload);
    try { frame.postMessage(message, origin); } catch (e) { clearTimeout(timer); reject(e); }
  });
}
"""


def _js(value: Any) -> str:
    """A JSON literal safe inside <script> (no closing tag, no HTML-significant characters)."""
    return (
        json.dumps(value)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def login_storage_page(*, auth_url: str, state: str, storage_target: str, platform_origin: str, key: str) -> str:
    """Put the state in the platform's storage, then go on to the platform's auth endpoint either way.

    A failed put is not fatal here: the cookie set beside this page may still work, and the launch
    page decides (and explains) if neither does.
    """
    script = (
        "<script>" + _STORAGE_JS
        + f"var authUrl = {_js(auth_url)};"
        + f"ltiStorage({_js(storage_target)}, {_js(platform_origin)}, 'lti.put_data', "
        + f"{{key: {_js(key)}, value: {_js(state)}}}, {STORAGE_TIMEOUT_MS})"
        + ".then(function () { window.location.replace(authUrl); }, function () { window.location.replace(authUrl); });"
        + "</script>"
    )
    body = (
        "<h1>Connecting to your course…</h1>"
        f'<p><noscript>JavaScript is off. <a href="{escape(auth_url, quote=True)}">Continue</a>.</noscript></p>'
    )
    return _SHELL.format(title="Connecting…", body=body, script=script)


def launch_check_page(
    *, launch_url: str, id_token: str, state: str, storage_target: str, platform_origin: str, key: str
) -> str:
    """Confirm through the platform's storage that this browser began the login, then post the launch again.

    The second post carries ``lti_storage_check``; the gateway accepts ``ok`` only from its own origin.
    """
    form = (
        f'<form id="launch" method="post" action="{escape(launch_url, quote=True)}">'
        f'<input type="hidden" name="id_token" value="{escape(id_token, quote=True)}">'
        f'<input type="hidden" name="state" value="{escape(state, quote=True)}">'
        f'<input type="hidden" name="lti_storage_target" value="{escape(storage_target, quote=True)}">'
        '<input type="hidden" name="lti_storage_check" id="check" value="unavailable">'
        "</form>"
    )
    script = (
        "<script>" + _STORAGE_JS
        + "function finish(result) { document.getElementById('check').value = result;"
        + " document.getElementById('launch').submit(); }"
        + f"var expected = {_js(state)};"
        + f"ltiStorage({_js(storage_target)}, {_js(platform_origin)}, 'lti.get_data', {{key: {_js(key)}}}, "
        + f"{STORAGE_TIMEOUT_MS})"
        + ".then(function (data) { finish(data.value === expected ? 'ok' : 'mismatch'); },"
        + " function () { finish('unavailable'); });"
        + "</script>"
    )
    body = "<h1>Opening the tool…</h1><p>Checking your sign-in with the course.</p>" + form
    return _SHELL.format(title="Opening…", body=body, script=script)


def new_window_html(retry_url: str) -> str:
    """The way out when the frame keeps neither cookie nor storage: the same login, top-level."""
    url = escape(retry_url, quote=True)
    return (
        '<p><a class="button" id="open-new-window" target="_blank" rel="noopener" '
        f'href="{url}">Open the tool in a new window</a></p>'
        "<p><small>The new window signs you in directly, where your browser allows the tool's cookie.</small></p>"
    )
