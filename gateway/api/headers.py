"""Security headers every response gets, set once for the whole app (``after_request``).

* Every HTML page: a Content-Security-Policy (no plugins, no ``<base>``, scripts and styles only from the
  gateway or inline in its own pages, forms posted over https, or http outside production).
* Who may frame a page: the LTI pages (``/lti/...``: login, launch, registration) and the identity link page an
  unmatched launch lands on (``/identity/link/...``, still inside the LMS's frame) are framed by LMSs, so their
  ``frame-ancestors`` are the origins in ``GATEWAY_LTI_FRAME_ANCESTORS`` (default: any https origin, and any
  http origin outside production). Every other page (Clever's, error pages, anything else) is not framable at
  all: ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY`` (clickjacking).
* ``Strict-Transport-Security`` in production.
* ``Cache-Control: no-store`` on every ``/api/`` answer and every HTML page unless the route said otherwise:
  launch records, roster entries and hand-off codes must not sit in a cache.
"""

from __future__ import annotations

from flask import request
from werkzeug.wrappers import Response

from gateway.settings import Settings

HSTS = "max-age=31536000; includeSubDomains"
# Pages an LMS shows in its frame: the launch, and the identity link page an unmatched launch lands on inside it.
FRAMED_IN_THE_LMS = ("/lti/", "/identity/link/")


def frame_ancestors(settings: Settings) -> str:
    listed = " ".join(o.strip() for o in settings.lti_frame_ancestors.split(",") if o.strip())
    if listed:
        return listed
    return "https:" if settings.is_production else "https: http:"


def content_security_policy(settings: Settings, ancestors: str) -> str:
    forms = "'self' https:" if settings.is_production else "'self' https: http:"
    return ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            f"img-src 'self' data: https:; object-src 'none'; base-uri 'none'; form-action {forms}; "
            f"frame-ancestors {ancestors}")


def apply(response: Response, settings: Settings) -> Response:
    headers = response.headers
    if settings.is_production:
        headers.setdefault("Strict-Transport-Security", HSTS)
    path = request.path
    is_html = response.mimetype == "text/html"
    if path.startswith("/api/") or is_html:
        headers.setdefault("Cache-Control", "no-store")
    if is_html and not path.startswith("/sandbox/"):
        if path.startswith(FRAMED_IN_THE_LMS):
            ancestors = frame_ancestors(settings)
        else:
            ancestors = "'none'"
            headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Content-Security-Policy", content_security_policy(settings, ancestors))
    return response
