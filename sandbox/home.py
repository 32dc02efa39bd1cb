"""Dev mode only: the landing page at ``/``, the first page ``make run`` points at.

It links every flow the sandbox can show (the simulated LMS and its gradebook, the simulated Clever, the vendor
page) and what an engineer reads next (the API reference, health and metrics). Outside dev mode ``/`` answers
404: in production the route does not exist at all (the sandbox is not mounted), in test it refuses.
"""

from __future__ import annotations

from html import escape

from flask import Blueprint, Response, request

from gateway.errors import NotFound
from gateway.web import core
from sandbox.vendor import HOLD_COOKIE
from sandbox.vendor_pages import hold_form

bp = Blueprint("sandbox_home", __name__)

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Gateway sandbox</title>
<style>body{{font-family:system-ui,sans-serif;margin:1.5rem auto;color:#1f2933;max-width:52rem;padding:0 1rem}}
section{{border:1px solid #ccd;border-radius:6px;padding:.2rem 1rem;margin:1rem 0}} code{{background:#f4f6f8;
padding:0 .2rem}} pre{{background:#f4f6f8;padding:.6rem;overflow:auto}}</style></head><body>
<h1>Gateway sandbox <small>(dev mode)</small></h1>
<p>This gateway runs in dev mode with simulated district systems, so every flow can be tried in this browser.
Nothing here exists in production.</p>
<section id="lms"><h2>An LMS launch (LTI 1.3)</h2>
<p><a href="/sandbox/lms/">The simulated LMS</a>: open the course activity as the teacher or a student, add
content with Deep Linking, then see the <a href="/sandbox/lms/gradebook">gradebook</a> fill in when the vendor
app posts grades.</p></section>
<section id="clever"><h2>Clever</h2>
<p><a href="/sandbox/clever/">The Clever sandbox</a>: Library install, Instant Login, Log in with Clever and
Secure Sync against a simulated Clever.</p></section>
<section id="vendor"><h2>The vendor app</h2>
<p>After a launch the browser lands on <a href="/sandbox/vendor/">a stand-in vendor page</a>. To redeem codes from
your shell, as your back end will, switch it to hold them, and make an API key:</p>
{hold_form}
<pre>.venv/bin/gateway api-keys create --name quickstart --scope launches --scope writeback</pre></section>
<section id="api"><h2>The vendor API</h2>
<p><a href="/docs/api">API reference</a> (read in the browser) · <a href="/openapi.yaml">openapi.yaml</a>
(the contract, for code generators).</p></section>
<section id="ops"><h2>Operations</h2>
<p><a href="/healthz">/healthz</a> (the process is up) · <a href="/readyz">/readyz</a> (database, migrations,
signing key) · <a href="/metrics">/metrics</a> (Prometheus) · <a href="/.well-known/jwks.json">JWKS</a> (the tool's
public keys)</p></section>
<p><small>Serving at <code>{base_url}</code>.</small></p>
</body></html>"""


@bp.before_request
def _dev_only() -> None:
    if not core().settings.is_dev:
        raise NotFound("The sandbox exists in dev mode only.")


@bp.get("/")
def landing() -> Response:
    holding = request.cookies.get(HOLD_COOKIE) == "1"
    body = _PAGE.format(hold_form=hold_form(holding, "/"), base_url=escape(core().settings.public_base_url))
    return Response(body, mimetype="text/html")
