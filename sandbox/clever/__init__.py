"""A simulated Clever: OAuth, identity, Data API v3.0/v3.1, Events and LMS Connect, as one real Flask app.

Tests seed it (:class:`CleverSim`), serve it on loopback, and point ``GATEWAY_CLEVER_OAUTH_BASE_URL`` and
``GATEWAY_CLEVER_API_BASE_URL`` at it; the dev server mounts one too (:mod:`sandbox.clever.dev`). Responses
follow Clever's published Swagger specs; the simulator never reads them, and the tests check every response
against them when the files are present (``tests/support/clever_spec.py``). Switches on ``CleverSim.switches`` make
the next calls fail the ways Clever does: 429 with ``X-RateLimit-Reset``, 5xx, HTML bodies, a JSON body of the
test's choosing, or a write applied whose answer is lost (500); they match any path by prefix (``/v3``,
``/oauth/tokens``, ``/v3.0/me``...) and optionally one method. ``revoke_district`` revokes a district-app token. A
real per-token fixed window applies to the API too; its answers carry ``X-RateLimit-Limit``, ``-Remaining`` and
``-Reset``.
"""

from __future__ import annotations

import math
import time

from flask import Flask, Response, g, jsonify, request

from sandbox.clever.common import caller, error, html, sim
from sandbox.clever.state import CleverSim, RequestRecord

__all__ = ["CleverSim", "create_app"]

_API_PREFIXES = ("/v3.0/", "/v3.1/", "/me", "/userinfo")


def create_app(state: CleverSim) -> Flask:
    from sandbox.clever import data, lms, oauth

    app = Flask(__name__)
    app.extensions["clever_sim"] = state
    app.register_blueprint(oauth.bp)
    app.register_blueprint(lms.bp)
    app.register_blueprint(data.bp)
    app.before_request(_record_and_fault)
    app.after_request(_rate_headers)
    app.after_request(_lose_answer)
    app.register_error_handler(404, lambda _e: error(404, "Resource not found"))
    app.register_error_handler(405, lambda _e: error(405, "Method not allowed"))
    return app


def _record_and_fault() -> Response | None:
    state = sim()
    who = caller()
    auth = who.kind if who.kind in ("basic", "sso", "district") else "none"
    with state.lock:
        state.requests.append(RequestRecord(request.method, request.path, auth))
    if request.path.startswith("/sim/"):
        return None  # the test's own controls (sign-in, portal clicks) never fail
    forced = _switch(state)
    if forced is not None:
        return forced
    if not request.path.startswith(_API_PREFIXES):
        return None
    if who.kind in ("sso", "district"):
        return _window(state, who.token)
    return None


def _switch(state: CleverSim) -> Response | None:
    switches = state.switches
    with state.lock:
        if not request.path.startswith(switches.prefix):
            return None
        if switches.method is not None and request.method != switches.method:
            return None
        if switches.rate_limited > 0:
            switches.rate_limited -= 1
            return _too_many(state.clock() + switches.rate_limit_reset_in)
        if switches.failures:
            status = switches.failures.pop(0)
            return error(status, "Internal Error")
        if switches.html > 0:
            switches.html -= 1
            return html(200 if request.method == "GET" else 404, "Clever")
        if switches.bodies:
            # Whatever the test wants Clever to have said (a malformed token list, a /me without
            # authorized_by): off-spec on purpose, so the spec check skips it.
            g.sim_off_spec = "override"
            return jsonify(switches.bodies.pop(0))
        hang = switches.hang_seconds if switches.hang > 0 else 0.0
        switches.hang = max(0, switches.hang - 1)
    if hang:
        time.sleep(hang)
        return error(503, "Internal Error")
    return None


def _window(state: CleverSim, token: str) -> Response | None:
    """Clever's limit: N requests per token per fixed window, then 429 until the window resets."""
    with state.lock:
        now = state.clock()
        start = now - (now % state.rate_window)
        window_start, count = state.windows.get(token, (start, 0))
        if window_start < start:
            window_start, count = start, 0
        if count >= state.rate_limit:
            return _too_many(window_start + state.rate_window)
        state.windows[token] = (window_start, count + 1)
        # What Clever says about the window on every answer: the calls left and when it resets.
        g.sim_rate = (state.rate_limit, state.rate_limit - count - 1, math.ceil(window_start + state.rate_window))
    return None


def _lose_answer(response: Response) -> Response:
    """``lose_answers``: the request did its work, but the client hears a 500 (an answer lost on the way)."""
    state = sim()
    switches = state.switches
    with state.lock:
        if (switches.lose_answers <= 0 or not 200 <= response.status_code < 300
                or not request.path.startswith(switches.prefix)
                or (switches.method is not None and request.method != switches.method)):
            return response
        switches.lose_answers -= 1
    return error(500, "Internal Error")


def _rate_headers(response: Response) -> Response:
    rate = getattr(g, "sim_rate", None)
    if rate is not None:
        limit, remaining, reset = rate
        response.headers["X-RateLimit-Limit"] = str(limit)
        response.headers["X-RateLimit-Remaining"] = str(remaining)
        response.headers["X-RateLimit-Reset"] = str(reset)
    return response


def _too_many(reset_at: float) -> Response:
    state = sim()
    with state.lock:
        state.throttled += 1
    g.sim_status_note = "rate-limited"
    response = error(429, "Too Many Requests")
    response.headers["X-RateLimit-Reset"] = str(math.ceil(reset_at))
    return response
