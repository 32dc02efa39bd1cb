"""A real gateway on loopback, built from test settings, with helpers to call its API."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from gateway.app import create_app
from gateway.bootstrap import Services, bootstrap
from gateway.settings import Settings, load_settings
from tests.support.live import LiveServer
from tests.support.openapi import ContractRecorder, attach

TEST_ENCRYPTION_KEYS = "t1:" + base64.b64encode(b"t" * 32).decode()
# Fixed but varied enough for production's entropy check (tests that start in production use it too).
TEST_SECRET_KEY = "test-secret-Vq7d3kPzW9mXa2LbN8rTf0sYhJc6Ue4G"


def make_test_settings(database_url: str, keys_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "database_url": database_url,
        "keys_dir": str(keys_dir),
        "encryption_keys": TEST_ENCRYPTION_KEYS,
        "secret_key": TEST_SECRET_KEY,
        "log_level": "WARNING",
        "http_timeout_seconds": 5.0,
    }
    values.update(overrides)
    return load_settings(environ={}, **values)


def outside_dev(env: str) -> dict[str, Any]:
    """Settings for a test gateway in ``env`` (``test`` or ``production``): production gets the https URLs it
    requires and keeps the test's SQLite database."""
    overrides: dict[str, Any] = {"env": env}
    if env == "production":
        overrides.update(public_base_url="https://gateway.example.edu", vendor_launch_url="https://app.example.edu/lti",
                         allow_sqlite_in_production=True)
    return overrides


@dataclass
class GatewayUnderTest:
    """The running gateway: its URL, its services (for arranging data), and an API client."""

    server: LiveServer
    services: Services
    contract: ContractRecorder
    sessions: list[requests.Session] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    def api_key(self, *scopes: str, name: str = "vendor-app") -> str:
        _, key = self.services.api_keys.create(name, list(scopes) or ["launches"])
        return key

    def api(self, *scopes: str, key: str | None = None) -> requests.Session:
        """A requests session that sends a Bearer key (made with ``scopes`` unless ``key`` is given)."""
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key or self.api_key(*scopes)}"
        self.sessions.append(session)
        return session

    def close(self) -> None:
        for session in self.sessions:
            session.close()
        self.server.stop()
        self.services.close()

    def __enter__(self) -> GatewayUnderTest:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        """Stop it; when the block ended without an error, fail if any API answer broke ``openapi.yaml``."""
        self.close()
        if kind is None:
            self.contract.assert_clean()


def start_gateway(
    database_url: str, keys_dir: Path, *, check_contract: bool = True, **overrides: Any
) -> GatewayUnderTest:
    """Start a gateway whose public base URL is its own loopback address.

    ``check_contract`` validates every /api response against openapi.yaml (benchmarks turn it off).
    """
    server = LiveServer(lambda environ, start_response: None)
    overrides.setdefault("public_base_url", server.url)
    settings = make_test_settings(database_url, keys_dir, **overrides)
    services = bootstrap(settings)
    services.keyring.generate()
    app = create_app(services=services)
    contract = attach(app) if check_contract else ContractRecorder()
    server.set_app(app)
    server.start()
    return GatewayUnderTest(server=server, services=services, contract=contract)
