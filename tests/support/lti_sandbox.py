"""A gateway and the simulated LMS platform on loopback, registered with each other, and what to assert on them."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, select

from gateway.app import create_app, dev_settings
from gateway.bootstrap import bootstrap
from gateway.lti.registrations import Registration
from gateway.store.models.core import HandoffCodeRow, LaunchRow, UserRow
from gateway.store.models.lti import (
    LtiContextRow,
    LtiDeepLinkRequestRow,
    LtiDeploymentRow,
    LtiIdentityRow,
    LtiLoginStateRow,
    LtiResourceLinkRow,
)
from sandbox.lms import SandboxPlatform, create_lms_app
from sandbox.lms.dev import register_sandbox
from sandbox.lms.keys import PlatformKey
from tests.support.gateway import GatewayUnderTest, make_test_settings, start_gateway
from tests.support.live import LiveServer
from tests.support.lti_flow import Browser
from tests.support.openapi import attach

# Everything a launch may write; a refused launch leaves every count as it was.
STORED = {
    "users": UserRow,
    "lti_identities": LtiIdentityRow,
    "lti_contexts": LtiContextRow,
    "lti_resource_links": LtiResourceLinkRow,
    "lti_deployments": LtiDeploymentRow,
    "launches": LaunchRow,
    "handoff_codes": HandoffCodeRow,
    "lti_deep_link_requests": LtiDeepLinkRequestRow,
}


def stored(gateway: GatewayUnderTest) -> dict[str, int]:
    with gateway.services.db.transaction() as s:
        counts = {name: s.scalar(select(func.count()).select_from(model)) or 0 for name, model in STORED.items()}
        counts["used_login_states"] = s.scalar(
            select(func.count()).select_from(LtiLoginStateRow).where(LtiLoginStateRow.used_at.is_not(None))
        ) or 0
    return counts


@functools.cache
def _platform_key() -> PlatformKey:
    # One RSA key for every simulated platform of a test process: making one costs ~0.1 s, and rotation
    # tests replace it on their own platform only.
    return PlatformKey.generate()


def start_platform(host: str = "127.0.0.1", name: str | None = None) -> tuple[SandboxPlatform, LiveServer]:
    """The simulated LMS on an ephemeral port; ``name`` (e.g. ``localhost``) is the host in its own URLs."""
    server = LiveServer(lambda environ, start_response: None, host=host)
    platform = SandboxPlatform(f"http://{name or host}:{server.port}", key=_platform_key())
    server.set_app(create_lms_app(platform))
    server.start()
    return platform, server


@dataclass
class LtiWorld:
    gateway: GatewayUnderTest
    platform: SandboxPlatform
    platform_server: LiveServer
    registration: Registration
    browsers: list[Browser] = field(default_factory=list)

    def browser(self) -> Browser:
        made = Browser()
        self.browsers.append(made)
        return made

    def redeem(self, code: str, key: str | None = None) -> requests.Response:
        api = self.gateway.api("launches", key=key)
        return api.post(f"{self.gateway.url}/api/v1/launches/redeem", json={"code": code}, timeout=10)

    def close(self) -> None:
        for browser in self.browsers:
            browser.close()
        self.platform_server.stop()
        self.gateway.close()


def connect(gateway: GatewayUnderTest, platform: SandboxPlatform) -> Registration:
    config = gateway.services.lti.config
    platform.connect_tool(login_url=config.login_url, launch_url=config.launch_url, jwks_url=config.jwks_url)
    return register_sandbox(gateway.services.db, platform)


@contextmanager
def lti_world(database_url: str, keys_dir: Path, *, platform_name: str | None = None,
              **settings: Any) -> Iterator[LtiWorld]:
    gateway = start_gateway(database_url, keys_dir, **settings)
    platform, server = start_platform(name=platform_name)
    world = LtiWorld(gateway, platform, server, connect(gateway, platform))
    try:
        yield world
    finally:
        world.close()
    gateway.contract.assert_clean()


def start_dev_gateway(database_url: str, keys_dir: Path, *, vendor_launch_url: str | None = None,
                      **overrides: Any) -> GatewayUnderTest:
    """A gateway in dev mode (sandbox LMS and Clever mounted, dev vendor page) whose URLs all name its own loopback
    port; ``vendor_launch_url`` defaults to the dev vendor page."""
    server = LiveServer(lambda environ, start_response: None)
    # dev_settings: what `gateway serve` applies before building (Clever pointed at the mounted simulator).
    settings = dev_settings(make_test_settings(database_url, keys_dir, env="dev", public_base_url=server.url,
                                               vendor_launch_url=vendor_launch_url or server.url
                                               + "/sandbox/vendor/launch", **overrides))
    services = bootstrap(settings)
    app = create_app(services=services)
    contract = attach(app)
    server.set_app(app)
    server.start()
    return GatewayUnderTest(server=server, services=services, contract=contract)
