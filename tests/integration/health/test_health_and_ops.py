"""Health, readiness, request ids, metrics, and how errors look to APIs and to people."""

from __future__ import annotations

from pathlib import Path

import requests
from flask import Blueprint

from gateway.app import create_app
from gateway.bootstrap import bootstrap
from gateway.health import drain_flag
from tests.support.databases import DatabaseFactory
from tests.support.gateway import GatewayUnderTest, make_test_settings, start_gateway
from tests.support.live import LiveServer


def test_healthz_and_readyz(gateway: GatewayUnderTest) -> None:
    assert requests.get(f"{gateway.url}/healthz", timeout=5).json() == {"status": "ok"}
    ready = requests.get(f"{gateway.url}/readyz", timeout=5)
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "migrations": "ok", "signing_key": "ok"}


def test_readyz_reports_pending_migrations(db_factory: DatabaseFactory, keys_dir: Path) -> None:
    services = bootstrap(make_test_settings(db_factory.empty_url("sqlite"), keys_dir))
    with LiveServer(create_app(services=services)) as server:
        response = requests.get(f"{server.url}/readyz", timeout=5)
        assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 200
    services.close()
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"].startswith("pending")


def test_readyz_reports_a_missing_signing_key(sqlite_url: str, keys_dir: Path) -> None:
    services = bootstrap(make_test_settings(sqlite_url, keys_dir))
    with LiveServer(create_app(services=services)) as server:
        response = requests.get(f"{server.url}/readyz", timeout=5)
    services.close()
    assert response.status_code == 503
    assert response.json()["checks"]["signing_key"].startswith("missing")


def test_a_draining_process_is_not_ready_but_still_serves(sqlite_url: str, keys_dir: Path) -> None:
    """What SIGTERM sets in a `gateway serve` worker (tested with real processes in tests/integration/deploy)."""
    services = bootstrap(make_test_settings(sqlite_url, keys_dir))
    services.keyring.generate()
    app = create_app(services=services)
    with LiveServer(app) as server:
        assert requests.get(f"{server.url}/readyz", timeout=5).status_code == 200
        drain_flag(app.extensions).set()
        response = requests.get(f"{server.url}/readyz", timeout=5)
        healthy = requests.get(f"{server.url}/healthz", timeout=5)
    services.close()
    assert response.status_code == 503
    assert response.json() == {"status": "not_ready", "checks": {"shutdown": "draining"}}
    assert healthy.status_code == 200


def test_request_id_is_returned_and_a_good_incoming_one_is_kept(gateway: GatewayUnderTest) -> None:
    generated = requests.get(f"{gateway.url}/healthz", timeout=5).headers["X-Request-Id"]
    assert len(generated) >= 16
    kept = requests.get(f"{gateway.url}/healthz", headers={"X-Request-Id": "lb-abc12345"}, timeout=5)
    assert kept.headers["X-Request-Id"] == "lb-abc12345"
    hostile = requests.get(f"{gateway.url}/healthz", headers={"X-Request-Id": "<script>"}, timeout=5)
    assert hostile.headers["X-Request-Id"] != "<script>"


def test_jwks_publishes_the_signing_key(gateway: GatewayUnderTest) -> None:
    keys = requests.get(f"{gateway.url}/.well-known/jwks.json", timeout=5).json()["keys"]
    kid = gateway.services.keyring.signing_key().kid
    assert [k["kid"] for k in keys] == [kid]
    assert keys[0]["alg"] == "RS256" and keys[0]["use"] == "sig" and keys[0]["kty"] == "RSA"
    assert "d" not in keys[0]  # never the private part


def test_metrics_count_requests_and_error_codes(gateway: GatewayUnderTest) -> None:
    requests.get(f"{gateway.url}/api/v1/whoami", timeout=5)
    text = requests.get(f"{gateway.url}/metrics", timeout=5).text
    assert 'gateway_errors_total{code="UNAUTHENTICATED"} 1.0' in text
    assert "gateway_http_requests_total" in text


def test_metrics_content_type_names_its_charset_once(gateway: GatewayUnderTest) -> None:
    """Issue 14: `text/plain; version=0.0.4; charset=utf-8; charset=utf-8`."""
    content_type = requests.get(f"{gateway.url}/metrics", timeout=5).headers["Content-Type"]
    assert content_type.startswith("text/plain; version=") and content_type.count("charset") == 1, content_type
    assert content_type.endswith("; charset=utf-8")


def test_metrics_can_require_a_token(sqlite_url: str, keys_dir: Path) -> None:
    gw = start_gateway(sqlite_url, keys_dir, metrics_token="scrape-secret")
    try:
        assert requests.get(f"{gw.url}/metrics", timeout=5).status_code == 401
        wrong = requests.get(f"{gw.url}/metrics", headers={"Authorization": "Bearer nope"}, timeout=5)
        assert wrong.status_code == 401
        ok = requests.get(f"{gw.url}/metrics", headers={"Authorization": "Bearer scrape-secret"}, timeout=5)
        assert ok.status_code == 200 and "gateway_http_requests_total" in ok.text
    finally:
        gw.close()


def test_browser_errors_are_friendly_html_and_api_errors_are_problems(gateway: GatewayUnderTest) -> None:
    page = requests.get(f"{gateway.url}/no-such-page", headers={"Accept": "text/html"}, timeout=5)
    assert page.status_code == 404 and page.headers["Content-Type"].startswith("text/html")
    assert 'id="error-code">NOT_FOUND<' in page.text and "What you can do" in page.text
    api = requests.get(f"{gateway.url}/api/v1/no-such-route", timeout=5)
    assert api.headers["Content-Type"].startswith("application/problem+json")
    assert api.json()["code"] == "NOT_FOUND"
    wrong_method = requests.delete(f"{gateway.url}/api/v1/whoami", timeout=5)
    assert (wrong_method.status_code, wrong_method.json()["code"]) == (405, "METHOD_NOT_ALLOWED")


def test_oversized_body_is_413(gateway: GatewayUnderTest) -> None:
    api = gateway.api("launches")
    response = api.post(f"{gateway.url}/api/v1/launches/redeem", data=b"x" * (5 * 1024 * 1024), timeout=10)
    assert (response.status_code, response.json()["code"]) == (413, "PAYLOAD_TOO_LARGE")


def test_unexpected_exception_is_a_500_problem_without_internals(sqlite_url: str, keys_dir: Path) -> None:
    services = bootstrap(make_test_settings(sqlite_url, keys_dir))
    services.keyring.generate()
    app = create_app(services=services)
    boom = Blueprint("boom", __name__)

    @boom.get("/api/v1/boom")
    def explode() -> str:
        raise RuntimeError("database password is hunter2")

    app.register_blueprint(boom)
    with LiveServer(app) as server:
        response = requests.get(f"{server.url}/api/v1/boom", timeout=5)
    services.close()
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "INTERNAL_ERROR"
    assert body["request_id"] == response.headers["X-Request-Id"]
    assert "hunter2" not in response.text and "Traceback" not in response.text
