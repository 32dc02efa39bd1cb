"""The simulated Clever on loopback, a gateway wired to it, and a browser that walks redirects one by one."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from sandbox.clever import CleverSim, create_app
from tests.support.clever_spec import SpecRecorder, attach
from tests.support.gateway import GatewayUnderTest, start_gateway
from tests.support.live import LiveServer


@dataclass
class RunningClever:
    sim: CleverSim
    server: LiveServer
    spec: SpecRecorder

    @property
    def url(self) -> str:
        return self.server.url

    def close(self) -> None:
        self.server.stop()


def start_clever(**sim_options: Any) -> RunningClever:
    sim = CleverSim(**sim_options)
    app = create_app(sim)
    recorder = attach(app)
    server = LiveServer(app).start()
    return RunningClever(sim, server, recorder)


def clever_settings(clever: RunningClever, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "clever_client_id": clever.sim.client_id,
        "clever_client_secret": clever.sim.client_secret,
        "clever_oauth_base_url": clever.url,
        "clever_api_base_url": clever.url,
        "clever_retry_base_seconds": 0.01,
        "clever_max_rate_limit_wait_seconds": 5.0,
        "clever_page_limit": 2,
    }
    values.update(overrides)
    return values


def start_gateway_with_clever(database_url: str, keys_dir: Path, clever: RunningClever,
                              **overrides: Any) -> GatewayUnderTest:
    """A gateway whose Clever is the simulator; its callback is registered as the app's first redirect URI."""
    gw = start_gateway(database_url, keys_dir, **clever_settings(clever, **overrides))
    clever.sim.redirect_uris.insert(0, gw.url + "/clever/callback")
    return gw


@dataclass
class Hop:
    url: str
    status: int


@dataclass
class Browser:
    """A cookie-keeping browser that follows redirects itself, so a test can stop at the vendor's URL."""

    session: requests.Session = field(default_factory=requests.Session)
    hops: list[Hop] = field(default_factory=list)

    def go(self, url: str, *, stop_at: str | None = None, max_hops: int = 10) -> requests.Response:
        for _ in range(max_hops):
            response = self.session.get(url, allow_redirects=False, timeout=10)
            self.hops.append(Hop(url, response.status_code))
            location = response.headers.get("Location")
            if response.status_code not in (301, 302, 303, 307) or not location:
                return response
            url = urljoin(url, location)
            if stop_at and url.startswith(stop_at):
                self.hops.append(Hop(url, 0))
                return response
        raise AssertionError(f"too many redirects: {[h.url for h in self.hops]}")

    @property
    def last_url(self) -> str:
        return self.hops[-1].url

    def close(self) -> None:
        self.session.close()


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
