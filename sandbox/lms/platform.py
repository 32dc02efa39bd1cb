"""The simulated platform's state: who is in the course, what launch each login is for, and what it received.

Everything lives in memory, guarded by one lock: the app serves on a threaded loopback server.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
import requests

from gateway.lti import claims as c
from gateway.lti.jwks import parse_jwks
from sandbox.lms.cases import Case
from sandbox.lms.keys import PlatformKey

CLIENT_ID = "sandbox-client"
DEPLOYMENT_ID = "sandbox-deployment-1"
SANDBOX_LTI11_SECRET = "sandbox-lti11-secret"  # noqa: S105  # the simulated 1.1 tool's shared secret, dev and tests


@dataclass(frozen=True)
class User:
    sub: str
    name: str
    given_name: str
    family_name: str
    email: str
    roles: tuple[str, ...]

    @property
    def learner(self) -> bool:
        return c.MEMBERSHIP_ROLE + "Learner" in self.roles


TEACHER = User(
    "teacher-1", "Tess Teacher", "Tess", "Teacher", "tess.teacher@example.edu",
    (c.MEMBERSHIP_ROLE + "Instructor", c.INSTITUTION_ROLE + "Faculty"),
)
STUDENT = User(
    "student-1", "Sam Student", "Sam", "Student", "sam.student@example.edu",
    (c.MEMBERSHIP_ROLE + "Learner", c.INSTITUTION_ROLE + "Student"),
)
STUDENT_2 = User(
    "student-2", "Kim Pupil", "Kim", "Pupil", "kim.pupil@example.edu",
    (c.MEMBERSHIP_ROLE + "Learner", c.INSTITUTION_ROLE + "Student"),
)


@dataclass(frozen=True)
class Course:
    id: str = "course-1"
    label: str = "MATH-7"
    title: str = "Grade 7 Mathematics"


@dataclass(frozen=True)
class Lti1p1Claim:
    """The LTI 1.1 migration claim a launch carries, signed as a platform migrating from 1.1 signs it.

    ``secret`` is the 1.1 shared secret the platform signs with (another than the tool's: a bad signature; None:
    no ``oauth_consumer_key_sign`` at all); ``user_id`` None leaves it out (the 1.1 id is then ``sub``).
    """

    user_id: str | None = "lti11-user-1"
    consumer_key: str = "sandbox-lti11-key"
    secret: str | None = SANDBOX_LTI11_SECRET


@dataclass
class LaunchIntent:
    """What a login is for: set before the login, read by the auth endpoint (keyed by lti_message_hint)."""

    user: User = TEACHER
    message_type: str = c.RESOURCE_LINK_REQUEST
    case: Case = Case.VALID
    variant: str | None = None  # a certification-valid variant (sandbox.lms.messages.VALID_VARIANTS)
    storage_target: str | None = None
    deployment_id: str | None = None
    resource_link_id: str = "link-1"
    custom: dict[str, str] = field(default_factory=lambda: {"unit": "fractions"})
    ags: bool = True
    nrps: bool = True
    extra_claims: dict[str, Any] = field(default_factory=dict)
    drop_claims: tuple[str, ...] = ()
    lti1p1: Lti1p1Claim | None = None  # the LTI 1.1 migration claim, signed over this launch's final claims


@dataclass
class Recorded:
    """A request the platform received (token, AGS, NRPS, JWKS, auth, deep-link return)."""

    kind: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class Failure:
    """An injected failure: the next ``count`` requests whose path contains ``match`` get this answer."""

    match: str
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    count: int
    delay: float = 0.0  # seconds to wait before answering (hang past a client's timeout)


class SandboxPlatform:
    """One simulated LMS: its keys and JWKS, its course, the tool it has registered, and what it saw."""

    def __init__(
        self,
        base_url: str,
        *,
        client_id: str = CLIENT_ID,
        deployment_id: str = DEPLOYMENT_ID,
        key: PlatformKey | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.deployment_id = deployment_id
        self.key = key or PlatformKey.generate()
        self.previous_keys: list[PlatformKey] = []
        self.course = Course()
        self.users = {u.sub: u for u in (TEACHER, STUDENT, STUDENT_2)}
        self.removed_users: list[User] = []  # NRPS differences: people who left the course
        self.offer_differences = True  # NRPS: a rel="differences" link on the roster's last page
        self.tool_login_url = ""
        self.tool_redirect_uris: list[str] = []
        self.tool_jwks_url = ""
        self.intents: dict[str, LaunchIntent] = {}
        self.recorded: list[Recorded] = []
        self.failures: list[Failure] = []
        self.deep_link_returns: list[dict[str, Any]] = []
        self.tokens: dict[str, tuple[frozenset[str], float]] = {}
        self.used_jti: set[str] = set()
        self.used_dl_nonces: set[str] = set()
        # AGS store: line items by id, scores and results by line item id.
        self.line_items: dict[str, dict[str, Any]] = {}
        self.scores: dict[str, list[dict[str, Any]]] = {}
        self.next_line_item = 1
        self.lineitem_url_query = False  # give line item URLs a query string (tools must keep it)
        self.unquoted_link_rel = False  # emit `rel=next` unquoted, as lti1p3platform 0.1.8 does
        self.page_cap: int | None = None  # at most this many items a page, whatever `limit` asks
        self.next_link_origin: str | None = None  # a hostile LMS: `next` links on another origin
        self.token_audience_override: str | None = None  # Brightspace publishes an audience apart from the URL
        # How the platform holds the tool's JWKS: fetched for every check (default), or fetched once and kept
        # until expire_tool_jwks() (a platform's cache, for key rotation tests; no refetch on an unknown kid).
        self.cache_tool_jwks = False
        self._tool_jwks: dict[str, jwt.PyJWK] | None = None
        # Dynamic registration (lti-dr v1p0): one-time tokens handed out, and the tools that registered.
        self.registration_tokens: set[str] = set()
        self.tool_registrations: list[dict[str, Any]] = []
        self.openid_issuer_override: str | None = None  # serve a configuration naming another issuer
        self.registrations_made = 0
        self.answer_with_deployment = True  # False: answer as Canvas may, deployments made only at install
        self.granted_scope: str | None = None  # grant fewer scopes than the tool asked (lti-dr: answer's `scope`)
        self.lock = threading.RLock()

    # -- URLs -------------------------------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        return self.base_url

    @property
    def auth_url(self) -> str:
        return self.base_url + "/auth"

    @property
    def token_url(self) -> str:
        return self.base_url + "/token"

    @property
    def token_audience(self) -> str:
        return self.token_audience_override or self.token_url

    @property
    def jwks_url(self) -> str:
        return self.base_url + "/jwks"

    @property
    def lineitems_url(self) -> str:
        return f"{self.base_url}/ags/{self.course.id}/lineitems"

    @property
    def memberships_url(self) -> str:
        return f"{self.base_url}/nrps/{self.course.id}/memberships"

    @property
    def deep_link_return_url(self) -> str:
        return self.base_url + "/deep-link-return"

    @property
    def openid_configuration_url(self) -> str:
        return self.base_url + "/.well-known/openid-configuration"

    @property
    def registration_endpoint(self) -> str:
        return self.base_url + "/register"

    def registration(self) -> dict[str, Any]:
        """What an administrator types into the gateway to register this platform."""
        return {
            "issuer": self.issuer,
            "client_id": self.client_id,
            "auth_login_url": self.auth_url,
            "auth_token_url": self.token_url,
            "jwks_url": self.jwks_url,
            "lms": "sandbox",
            "name": "Sandbox LMS",
        }

    # -- the tool ----------------------------------------------------------------------------------------

    def connect_tool(self, *, login_url: str, launch_url: str, jwks_url: str) -> None:
        self.tool_login_url = login_url
        self.tool_redirect_uris = [launch_url]
        self.tool_jwks_url = jwks_url

    def tool_keys(self) -> dict[str, jwt.PyJWK]:
        """The tool's public keys, as this platform holds them (see ``cache_tool_jwks``)."""
        with self.lock:
            if self.cache_tool_jwks and self._tool_jwks is not None:
                return self._tool_jwks
        keys = parse_jwks(requests.get(self.tool_jwks_url, timeout=5).json())
        self.record(Recorded("tool_jwks", "GET", self.tool_jwks_url, {}, {}, {"kids": sorted(keys)}, 200))
        with self.lock:
            if self.cache_tool_jwks:
                self._tool_jwks = keys
        return keys

    def expire_tool_jwks(self) -> None:
        """The platform's cache lifetime ran out: the next check fetches the tool's JWKS again."""
        with self.lock:
            self._tool_jwks = None

    def start_registration(self, tool_registration_url: str) -> str:
        """What an administrator's "add tool by URL" does: the tool's URL with the two parameters (lti-dr §3.3)."""
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.registration_tokens.add(token)
        query = urlencode({"openid_configuration": self.openid_configuration_url, "registration_token": token})
        return f"{tool_registration_url}{'&' if '?' in tool_registration_url else '?'}{query}"

    def accept_registration(self, config: dict[str, Any]) -> dict[str, Any]:
        """Make a client id and deployment for a tool configuration, and connect the tool to launch it."""
        with self.lock:
            self.registrations_made += 1
            self.client_id = f"sandbox-dr-client-{self.registrations_made}"
            self.deployment_id = f"sandbox-dr-deployment-{self.registrations_made}"
            self.tool_registrations.append(config)
            self.tool_login_url = config["initiate_login_uri"]
            self.tool_redirect_uris = list(config["redirect_uris"])
            self.tool_jwks_url = config["jwks_uri"]
            lti = dict(config[c.TOOL_CONFIGURATION])
            if self.answer_with_deployment:
                lti["deployment_id"] = self.deployment_id
            answer = {**config, "client_id": self.client_id, c.TOOL_CONFIGURATION: lti}
            if self.granted_scope is not None:
                answer["scope"] = self.granted_scope
            return answer

    def prepare(self, intent: LaunchIntent | None = None, *, client_id: bool = True,
                deployment_hint: bool = True) -> str:
        """Remember a launch and return the tool login URL that starts it (what an LMS link points at)."""
        intent = intent or LaunchIntent()
        hint = secrets.token_urlsafe(12)
        with self.lock:
            self.intents[hint] = intent
        params = {
            "iss": self.issuer,
            "login_hint": intent.user.sub,
            "target_link_uri": self.tool_redirect_uris[0],
            "lti_message_hint": hint,
        }
        if client_id:
            params["client_id"] = self.client_id
        if deployment_hint:
            params["lti_deployment_id"] = intent.deployment_id or self.deployment_id
        if intent.storage_target:
            params["lti_storage_target"] = intent.storage_target
        return self.tool_login_url + "?" + urlencode(params)

    def rotate_key(self) -> PlatformKey:
        """Sign with a new key; the old one leaves the JWKS (as Brightspace's hourly rotation does)."""
        with self.lock:
            self.previous_keys.append(self.key)
            self.key = PlatformKey.generate()
            return self.key

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.public_jwk()]}

    # -- test switches ----------------------------------------------------------------------------------

    def fail_next(self, match: str, status: int, *, count: int = 1, headers: dict[str, str] | None = None,
                  body: dict[str, Any] | None = None, delay: float = 0.0) -> None:
        with self.lock:
            self.failures.append(Failure(match, status, headers or {}, body or {"error": "injected"}, count, delay))

    def take_failure(self, path: str) -> Failure | None:
        with self.lock:
            for failure in self.failures:
                if failure.match in path and failure.count > 0:
                    failure.count -= 1
                    return failure
        return None

    def record(self, entry: Recorded) -> None:
        with self.lock:
            self.recorded.append(entry)

    def requests_of(self, kind: str) -> list[Recorded]:
        with self.lock:
            return [r for r in self.recorded if r.kind == kind]
