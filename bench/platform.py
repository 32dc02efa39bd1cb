"""The LMS side of the benchmarks: a platform process (JWKS, AGS) and the signer the load generator runs.

The platform process is the simulated LMS of ``sandbox.lms``, served alone (its CPU is not the servers'),
knowing the bench's students, answering AGS calls after ``--latency-ms`` and counting every request it gets
(``GET /bench/counts``): what a warm launch fetched is read there, whatever process fetched it.

The OIDC auth endpoint is played in the load generator itself (:class:`LaunchPlatform`): it reads the
tool's authentication redirect, signs an ``id_token`` with the nonce and state, and posts it back, so signing
costs client CPU, not the platform's or the server's.

Run alone: ``python -m bench.platform --port P --key-file K --tool-jwks URL [--tool-jwks URL ...]``.
"""

from __future__ import annotations

import argparse
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import requests
from werkzeug.serving import make_server

from gateway.lti import claims as c
from gateway.lti.jwks import parse_jwks
from sandbox.lms import SandboxPlatform, create_lms_app
from sandbox.lms.keys import PlatformKey
from sandbox.lms.platform import User

CLIENT_ID = "bench-client"
DEPLOYMENT_ID = "bench-deployment"
COURSE_ID = "course-1"  # the sandbox platform's course: its AGS routes serve this one


def student(i: int) -> User:
    return User(f"bench-student-{i}", f"Student {i}", "Student", str(i), f"student{i}@example.edu",
                (c.MEMBERSHIP_ROLE + "Learner", c.INSTITUTION_ROLE + "Student"))


class _BenchPlatform(SandboxPlatform):
    """The sandbox platform trusting several tools' keys (each gateway, and pylti1p3 with a gateway's key)."""

    def __init__(self, base_url: str, key: PlatformKey, tool_jwks: list[str], students: int) -> None:
        super().__init__(base_url, client_id=CLIENT_ID, deployment_id=DEPLOYMENT_ID, key=key)
        self.tool_jwks_urls = tool_jwks
        self.users.update({u.sub: u for u in map(student, range(students))})
        self._keys: dict[str, jwt.PyJWK] = {}

    def tool_keys(self) -> dict[str, jwt.PyJWK]:
        with self.lock:
            if self._keys:
                return self._keys
        merged: dict[str, jwt.PyJWK] = {}
        for url in self.tool_jwks_urls:
            merged.update(parse_jwks(requests.get(url, timeout=5).json()))
        with self.lock:
            self._keys = merged
        return merged

    def record(self, entry: Any) -> None:
        """Kept nothing: a benchmark's thousands of requests would only grow the list."""


def serve(port: int, key_file: str, tool_jwks: list[str], latency_ms: float, students: int) -> None:
    base_url = f"http://127.0.0.1:{port}"
    with open(key_file) as f:
        key = PlatformKey.from_pem(f.read())
    platform = _BenchPlatform(base_url, key, tool_jwks, students)
    lms = create_lms_app(platform)
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        path: str = environ.get("PATH_INFO", "")
        if path == "/bench/counts":
            import json

            with lock:
                body = json.dumps(dict(counts)).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        kind = ("jwks" if path == "/jwks" else "token" if path == "/token" else
                "scores" if path.endswith("/scores") else "ags" if path.startswith("/ags/") else "other")
        with lock:
            counts[kind] += 1
        if kind in ("scores", "ags") and latency_ms:
            time.sleep(latency_ms / 1000)
        return lms(environ, start_response)

    server = make_server("127.0.0.1", port, app, threaded=True)
    server.serve_forever()


# -- the platform's side of a launch, in the load generator ---------------------------------------------------


@dataclass(frozen=True)
class LaunchPlatform:
    """What the load generator needs to play the LMS: its issuer, its key, and the tool's two URLs."""

    issuer: str
    key_pem: str
    login_url: str
    launch_url: str

    def login_query(self, user_sub: str) -> str:
        """The OIDC login initiation an LMS link points at (third-party initiated login)."""
        return self.login_url + "?" + urlencode({
            "iss": self.issuer, "login_hint": user_sub, "target_link_uri": self.launch_url,
            "lti_message_hint": secrets.token_urlsafe(8), "client_id": CLIENT_ID,
            "lti_deployment_id": DEPLOYMENT_ID,
        })

    def answer(self, auth_location: str, user: User, key: PlatformKey) -> dict[str, str]:
        """The auth endpoint's form post: the ``id_token`` signed with the tool's nonce, and its state."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(auth_location).query).items()}
        if query.get("client_id") != CLIENT_ID or "nonce" not in query:
            raise ValueError("the tool's authentication request lacks client_id or nonce")
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer, "aud": CLIENT_ID, "azp": CLIENT_ID, "iat": now, "exp": now + 300,
            "nonce": query["nonce"], "sub": user.sub, "name": user.name, "given_name": user.given_name,
            "family_name": user.family_name, "email": user.email, "locale": "en",
            c.ROLES: list(user.roles),
            c.VERSION: c.LTI_VERSION,
            c.MESSAGE_TYPE: c.RESOURCE_LINK_REQUEST,
            c.DEPLOYMENT_ID: DEPLOYMENT_ID,
            c.TARGET_LINK_URI: self.launch_url,
            c.CONTEXT: {"id": COURSE_ID, "label": "MATH-7", "title": "Grade 7 Mathematics",
                        "type": [c.ROLE_VOCAB + "course#CourseOffering"]},
            c.RESOURCE_LINK: {"id": "link-1", "title": "Fractions practice"},
            c.TOOL_PLATFORM: {"guid": "bench-lms", "name": "Bench LMS", "product_family_code": "sandbox"},
            c.LAUNCH_PRESENTATION: {"document_target": "iframe", "locale": "en"},
            c.CUSTOM: {"unit": "fractions"},
            c.AGS_ENDPOINT: {
                "scope": [c.AGS_SCOPE_LINEITEM, c.AGS_SCOPE_RESULT_READONLY, c.AGS_SCOPE_SCORE],
                "lineitems": f"{self.issuer}/ags/{COURSE_ID}/lineitems",
            },
            c.NRPS_SERVICE: {"context_memberships_url": f"{self.issuer}/nrps/{COURSE_ID}/memberships",
                             "service_versions": ["2.0"]},
        }
        return {"id_token": key.sign(claims), "state": query.get("state", "")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key-file", required=True)
    parser.add_argument("--tool-jwks", action="append", default=[])
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--students", type=int, default=1000)
    args = parser.parse_args()
    serve(args.port, args.key_file, args.tool_jwks, args.latency_ms, args.students)


if __name__ == "__main__":
    main()
