"""Security headers by environment and page kind (gateway/api/headers.py); the live app's are in
tests/integration/api/test_hostile_input.py."""

from __future__ import annotations

from flask import Flask, Response

import gateway.api.headers as headers
from gateway.settings import load_settings

PRODUCTION = load_settings(environ={}, env="production", public_base_url="https://gw.example.org")
TEST = load_settings(environ={}, env="test")


def _apply(path: str, settings: object, mimetype: str = "text/html") -> Response:
    app = Flask(__name__)
    with app.test_request_context(path):
        return headers.apply(Response("x", mimetype=mimetype), settings)  # type: ignore[arg-type]


def test_production_sends_hsts_on_every_response() -> None:
    assert _apply("/healthz", PRODUCTION, "application/json").headers["Strict-Transport-Security"] == headers.HSTS
    assert "Strict-Transport-Security" not in _apply("/healthz", TEST, "application/json").headers


def test_launch_pages_are_framable_by_https_origins_only_in_production() -> None:
    csp = _apply("/lti/launch", PRODUCTION).headers["Content-Security-Policy"]
    assert "frame-ancestors https:" in csp and "http:;" not in csp and "form-action 'self' https:" in csp


def test_listed_frame_ancestors_replace_the_default() -> None:
    settings = load_settings(environ={}, env="production", lti_frame_ancestors="https://canvas.example.edu, "
                             "https://moodle.example.org")
    csp = _apply("/lti/launch", settings).headers["Content-Security-Policy"]
    assert "frame-ancestors https://canvas.example.edu https://moodle.example.org" in csp


def test_clever_and_other_pages_are_never_framed() -> None:
    for path in ("/clever/callback", "/clever/login", "/readyz", "/nothing"):
        response = _apply(path, PRODUCTION)
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path


def test_api_answers_are_not_stored_unless_the_route_says_otherwise() -> None:
    assert _apply("/api/v1/launches/redeem", TEST, "application/json").headers["Cache-Control"] == "no-store"
    app = Flask(__name__)
    with app.test_request_context("/lti/canvas.json"):
        kept = headers.apply(Response("{}", mimetype="application/json",
                                      headers={"Cache-Control": "public, max-age=300"}), TEST)
    assert kept.headers["Cache-Control"] == "public, max-age=300"
