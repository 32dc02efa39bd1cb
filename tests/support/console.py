"""The operator console under test: a gateway with it on, accounts, a cookie-keeping HTTP client, and arranged
work for its pages (a pending deployment, a dead delivery, an open identity conflict)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import requests

from gateway.bootstrap import Services
from gateway.console import ConsoleServices
from gateway.identity.links import Links
from gateway.lti.registrations import add_deployment, add_registration
from gateway.store.models.base import new_id
from gateway.store.models.core import UserRow
from gateway.store.models.lti import LtiIdentityRow
from gateway.writeback.outbox import OutboxItem
from tests.support.gateway import GatewayUnderTest, start_gateway
from tests.support.outbox import force

PASSWORD = "correct horse battery staple"
CONSOLE_SETTINGS: dict[str, Any] = {"console_enabled": True, "worker_in_process": "false"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def start_console(database_url: str, keys_dir: Path, **overrides: Any) -> GatewayUnderTest:
    return start_gateway(database_url, keys_dir, **{**CONSOLE_SETTINGS, **overrides})


def console_of(services: Services) -> ConsoleServices:
    found = next(f.services for f in services.features if isinstance(f.services, ConsoleServices))
    return found


def make_account(services: Services, name: str, role: str = "admin", *, totp: bool = False) -> str | None:
    """Make an account; its TOTP secret when it has one."""
    return console_of(services).accounts.create(name, PASSWORD, role, totp=totp, actor="test").totp_secret


def totp_now(secret: str) -> str:
    return pyotp.TOTP(secret).now()


class ConsoleClient:
    """HTTP to the console as a browser would send it. The console's cookie is ``Secure``; Python's cookie jar
    keeps such cookies off plain http, so this client carries it itself (the server is on loopback)."""

    def __init__(self, base_url: str, prefix: str = "/console") -> None:
        self.base = base_url + prefix
        self.http = requests.Session()
        self.cookie: str | None = None

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Cookie": f"gateway_console={self.cookie}"} if self.cookie else {}
        response = self.http.request(method, self.base + path, headers=headers, allow_redirects=False, timeout=10,
                                     **kwargs)
        if "gateway_console" in response.cookies:
            self.cookie = response.cookies["gateway_console"]
        return response

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self._send("GET", path, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> requests.Response:
        return self._send("POST", path, data=data or {}, **kwargs)

    def csrf(self, path: str = "/") -> str:
        found = _CSRF.search(self.get(path).text)
        assert found is not None, f"no CSRF token on {path}"
        return found.group(1)

    def sign_in(self, name: str, password: str = PASSWORD, code: str | None = None) -> requests.Response:
        token = self.csrf("/sign-in")
        return self.post("/sign-in", {"csrf_token": token, "name": name, "password": password, "code": code or ""})

    def close(self) -> None:
        self.http.close()


@dataclass(frozen=True)
class Arranged:
    registration_id: str
    deployment_ref: str
    deployment_id: str
    dead_delivery: str
    conflict_id: str
    assignment_id: str


def arrange(services: Services) -> Arranged:
    """Work waiting for an operator, made through the services the gateway itself uses."""
    tag = new_id("x")[-8:]
    with services.db.transaction() as s:
        registration = add_registration(
            s, issuer=f"https://canvas-{tag}.district.example", client_id="10000000000042", name="District Canvas",
            auth_login_url="https://sso.example/auth", auth_token_url="https://sso.example/token",
            jwks_url="https://sso.example/jwks", lms="canvas")
        deployment = add_deployment(s, registration.id, f"dep-{tag}", status="pending", actor="test",
                                    name="Lincoln High")
        user = UserRow(id=new_id("usr"))
        s.add(user)
        s.flush()
        identity = LtiIdentityRow(id=new_id("lid"), user_id=user.id, registration_id=registration.id, sub="sub-kid")
        s.add(identity)
        s.flush()
        conflict = Links(s, "test").conflict(identity, kind="ambiguous", method="email",
                                             clever_user_ids=("clever-a", "clever-b"), reason="two roster matches",
                                             district_id=None)
        assignment = f"asg_{tag}"
        dead = services.outbox.enqueue(s, OutboxItem(kind="grade", backend="ags", payload={"score": 1},
                                                     ordering_key=f"grade:{assignment}:sub-kid"))
        made = Arranged(registration.id, deployment.id, deployment.deployment_id, dead.id, conflict.id, assignment)
    force(services, dead.id, state="dead", attempts=4, last_status=400, detail="remote refused the score")
    return made
