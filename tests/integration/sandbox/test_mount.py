"""The sandbox is a dev plugin: a production app has no route under /sandbox, dev and test apps mount it.

A dev app answering there is covered by ``tests/integration/sandbox/test_dev_sandbox.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from gateway.app import create_app, dev_settings
from gateway.bootstrap import bootstrap
from tests.support.gateway import make_test_settings
from tests.support.live import LiveServer

PRODUCTION: dict[str, Any] = {
    "env": "production",
    "public_base_url": "https://gateway.example.edu",
    "vendor_launch_url": "https://app.example.edu/lti",
    "allow_sqlite_in_production": True,
}
SANDBOX_ROUTES = {"/sandbox/", "/sandbox/vendor/", "/sandbox/vendor/hold", "/sandbox/vendor/launch",
                  "/sandbox/vendor/deep-link/<launch_id>", "/sandbox/clever/", "/sandbox/clever/connect",
                  "/sandbox/clever/sync", "/sandbox/clever/districts/<district_id>"}
SANDBOX_PATHS = ["/sandbox/", "/sandbox/lms/", "/sandbox/lms/jwks", "/sandbox/vendor/launch?code=x",
                 "/sandbox/vendor/deep-link/launch_1", "/sandbox/clever/", "/sandbox/clever/sim/oauth/authorize",
                 "/sandbox/clever/districts/d1"]


def _app(sqlite_url: str, keys_dir: Path, **overrides: Any) -> Flask:
    services = bootstrap(make_test_settings(sqlite_url, keys_dir, **overrides))
    services.keyring.generate()  # production refuses to start on a dev key; a real one stands in
    return create_app(services=services)


def _sandbox_rules(app: Flask) -> set[str]:
    return {rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/sandbox")}


def test_production_has_no_sandbox_route(sqlite_url: str, keys_dir: Path) -> None:
    app = _app(sqlite_url, keys_dir, **PRODUCTION)
    assert _sandbox_rules(app) == set()
    assert "sandbox_lms_platform" not in app.extensions


def test_production_answers_404_under_sandbox_over_http(sqlite_url: str, keys_dir: Path) -> None:
    with LiveServer(_app(sqlite_url, keys_dir, **PRODUCTION)) as server:
        for path in SANDBOX_PATHS:
            response = requests.get(server.url + path, timeout=10, allow_redirects=False)
            assert response.status_code == 404, path
        for path in ("/sandbox/vendor/deep-link/launch_1", "/sandbox/clever/connect", "/sandbox/clever/sync"):
            assert requests.post(server.url + path, timeout=10).status_code == 404, path


def _without_the_sandbox_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the production image holds: the entry point is declared, its module is not installed."""
    for name in ("sandbox", "sandbox.plugin"):
        monkeypatch.setitem(sys.modules, name, None)  # None in sys.modules makes the import fail


def test_production_starts_without_the_sandbox_package(
    sqlite_url: str, keys_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _without_the_sandbox_package(monkeypatch)
    assert _sandbox_rules(_app(sqlite_url, keys_dir, **PRODUCTION)) == set()


def test_dev_loads_the_plugin_from_its_entry_point(
    sqlite_url: str, keys_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The counterpart of the test above: outside production the plugin is imported, so its absence shows.
    _without_the_sandbox_package(monkeypatch)
    with pytest.raises(ImportError):
        _app(sqlite_url, keys_dir, env="test")


@pytest.mark.parametrize("env", ["dev", "test"])
def test_dev_and_test_mount_the_sandbox_routes(sqlite_url: str, keys_dir: Path, env: str) -> None:
    app = _app(sqlite_url, keys_dir, env=env)
    assert _sandbox_rules(app) == SANDBOX_ROUTES


def test_production_keeps_its_clever_settings(sqlite_url: str, keys_dir: Path) -> None:
    # The sandbox's settings hook is a dev plugin too: production never asks it, even with Clever unset.
    settings = make_test_settings(sqlite_url, keys_dir, **PRODUCTION)
    assert dev_settings(settings) is settings
    assert _app(sqlite_url, keys_dir, **PRODUCTION).extensions["gateway"].settings.clever_client_id == ""


def test_only_dev_serves_the_simulated_lms(sqlite_url: str, keys_dir: Path) -> None:
    # Test apps point at their own simulated LMS on loopback; only the dev server mounts one at /sandbox/lms.
    assert "sandbox_lms_platform" in _app(sqlite_url, keys_dir, env="dev").extensions
    assert "sandbox_lms_platform" not in _app(sqlite_url, keys_dir, env="test").extensions
