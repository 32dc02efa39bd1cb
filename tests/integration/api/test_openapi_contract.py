"""openapi.yaml is valid, and it and the served /api routes describe each other exactly."""

from __future__ import annotations

import re
from pathlib import Path

import requests
import yaml
from openapi_spec_validator import validate

from gateway.app import create_app
from gateway.bootstrap import bootstrap
from tests.support.gateway import GatewayUnderTest, make_test_settings
from tests.support.live import LiveServer
from tests.support.openapi import SPEC_PATH, attach

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def _spec() -> dict[str, object]:
    with SPEC_PATH.open() as fh:
        loaded: dict[str, object] = yaml.safe_load(fh)
    return loaded


def test_document_is_valid_openapi_3_1() -> None:
    spec = _spec()
    assert spec["openapi"] == "3.1.0"
    validate(spec)


def _documented() -> set[tuple[str, str]]:
    paths = _spec()["paths"]
    assert isinstance(paths, dict)
    return {(method.upper(), path) for path, item in paths.items() for method in item if method in HTTP_METHODS}


def _served(gateway: GatewayUnderTest) -> set[tuple[str, str]]:
    app = gateway.server._server.app
    routes = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        routes |= {(m, path) for m in rule.methods or () if m.lower() in HTTP_METHODS}
    return routes


def test_every_served_route_is_documented(gateway: GatewayUnderTest) -> None:
    missing = _served(gateway) - _documented()
    assert not missing, f"served but not in openapi.yaml: {sorted(missing)}"


def test_every_documented_route_is_served(gateway: GatewayUnderTest) -> None:
    missing = _documented() - _served(gateway)
    assert not missing, f"in openapi.yaml but not served: {sorted(missing)}"


def test_every_operation_declares_auth_failures() -> None:
    paths = _spec()["paths"]
    assert isinstance(paths, dict)
    for path, item in paths.items():
        if not path.startswith("/api/"):
            continue  # browser, platform and operator routes take no API key
        for method, operation in item.items():
            if method in HTTP_METHODS:
                assert "401" in operation["responses"], f"{method.upper()} {path} lacks a 401 response"


def test_contract_checker_catches_a_broken_response(sqlite_url: str, keys_dir: Path) -> None:
    """The response validator is live: a response that breaks the spec is recorded as a violation."""
    services = bootstrap(make_test_settings(sqlite_url, keys_dir))
    services.keyring.generate()
    app = create_app(services=services)
    def broken() -> dict[str, object]:
        return {"unexpected": True}  # the spec requires id, name, scopes and forbids other fields

    app.view_functions["api.whoami"] = broken
    recorder = attach(app)
    with LiveServer(app) as server:
        requests.get(f"{server.url}/api/v1/whoami", timeout=5)
    services.close()
    assert recorder.checked == 1
    assert recorder.violations, "the contract checker let a response that breaks openapi.yaml through"


def test_the_validator_is_ready_before_the_first_api_response() -> None:
    # The first response of a test must not pay for parsing openapi.yaml (over a second on a busy machine, against
    # clients with a few seconds' timeout): attaching the checker to an app loads it.
    from flask import Flask

    from tests.support.openapi import spec

    spec.cache_clear()
    attach(Flask("contract-probe"))
    assert spec.cache_info().currsize == 1
