"""One request to Clever, with Clever's retry rules, through the gateway's :class:`~gateway.http.HttpClient`.

The rules (brief §3.7, https://dev.clever.com/docs/error-messages):

* 429: wait until ``X-RateLimit-Reset`` (a Unix time), then try again; never longer than the configured cap.
* 500, 502, 503, 504 and no answer at all: back off exponentially with jitter and try again, for idempotent
  methods only (a POST may have been applied; its caller owns the retry, for example the writeback outbox).
* 400 and 401 are never retried; an HTML body on an API call means a token used where it cannot reach.

Clever's 1,200-a-minute limit is per bearer token, so only bearer calls count against the local limiter; the
HTTP Basic calls (code exchange, token list) are not throttled here. Calls made while a person waits (the login
callback) use the ``interactive`` policy: few retries, and a 429 waited out only for a few seconds.

Every failure becomes a :class:`~gateway.clever.errors.CleverApiError` with a stable code.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from gateway.clever.errors import (
    CleverApiError,
    CleverBadRequest,
    CleverBadResponse,
    CleverNotFound,
    CleverRateLimited,
    CleverTokenRejected,
    CleverUnavailable,
    CleverWrongToken,
)
from gateway.clever.ratelimit import RateLimiter
from gateway.http import HttpClient, OutboundError
from gateway.ops.logs import log_event

log = logging.getLogger("gateway.clever.transport")

RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE"})
# The longest a login waits out a 429 before the person is told Clever is busy.
INTERACTIVE_RATE_LIMIT_WAIT_SECONDS = 3.0


@dataclass(frozen=True)
class Bearer:
    token: str

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def limiter_key(self) -> str:
        # A digest, so the limiter's table never holds a usable token.
        return "bearer:" + hashlib.sha256(self.token.encode()).hexdigest()[:24]

    def __repr__(self) -> str:
        return "Bearer(<redacted>)"


@dataclass(frozen=True)
class Basic:
    client_id: str
    client_secret: str

    def headers(self) -> dict[str, str]:
        # requests builds the header; HTTPBasicAuth latin-1 encodes like Clever's examples.
        return {}

    def __repr__(self) -> str:
        return f"Basic({self.client_id!r}, <redacted>)"


Auth = Bearer | Basic


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 4
    base_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    max_rate_limit_wait_seconds: float = 90.0
    max_rate_limit_retries: int = 8

    def interactive(self) -> RetryPolicy:
        """The policy for calls a person waits on: a Clever code lives a minute, and so does patience."""
        return RetryPolicy(
            max_retries=min(self.max_retries, 1),
            base_seconds=min(self.base_seconds, 0.5),
            max_backoff_seconds=min(self.max_backoff_seconds, 2.0),
            max_rate_limit_wait_seconds=min(self.max_rate_limit_wait_seconds, INTERACTIVE_RATE_LIMIT_WAIT_SECONDS),
            max_rate_limit_retries=1,
        )

    def backoff(self, attempt: int) -> float:
        """Full jitter: a random wait up to base * 2**attempt, capped."""
        ceiling = min(self.max_backoff_seconds, self.base_seconds * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311  # jitter, not a secret


@dataclass(frozen=True)
class CleverResponse:
    status: int
    body: Any
    headers: Mapping[str, str]


def _is_html(response: requests.Response) -> bool:
    if not response.content:
        return False
    content_type = response.headers.get("Content-Type", "").lower()
    if "html" in content_type:
        return True
    return response.content[:200].lstrip().startswith(b"<")


def _message(response: requests.Response) -> str:
    """Clever's `{"message": ...}` (spec BadRequest/NotFound), or an OAuth `error_description`; never a body dump."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        for key in ("message", "error_description", "error"):
            if isinstance(body.get(key), str):
                return str(body[key])[:300]
    return ""


class CleverTransport:
    def __init__(
        self,
        http: HttpClient,
        *,
        limiter: RateLimiter,
        policy: RetryPolicy,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        timeout: float,
    ) -> None:
        self._http = http
        self._limiter = limiter
        self._policy = policy
        self._interactive = policy.interactive()
        self._clock = clock
        self._sleep = sleep
        self._timeout = timeout

    def send(
        self,
        method: str,
        url: str,
        auth: Auth,
        *,
        params: Mapping[str, Any] | list[tuple[str, str]] | None = None,
        json_body: Any = None,
        timeout: float | None = None,
        system: str = "clever",
        interactive: bool = False,
    ) -> CleverResponse:
        policy = self._interactive if interactive else self._policy
        kwargs: dict[str, Any] = {"headers": {"Accept": "application/json", **auth.headers()},
                                  "allow_redirects": False}
        if isinstance(auth, Basic):
            kwargs["auth"] = requests.auth.HTTPBasicAuth(auth.client_id, auth.client_secret)
        if params is not None:
            kwargs["params"] = params
        if json_body is not None:
            kwargs["json"] = json_body
        attempt = limited = 0
        while True:
            if isinstance(auth, Bearer):
                # Clever counts per bearer token; Basic calls (code exchange, token list) are not throttled here.
                self._limiter.acquire(auth.limiter_key)
            try:
                response = self._http.request(system, method, url, timeout=timeout or self._timeout, **kwargs)
            except OutboundError as e:
                if method in IDEMPOTENT_METHODS and attempt < policy.max_retries:
                    self._wait_backoff(policy, attempt, system, f"no answer ({e.reason})")
                    attempt += 1
                    continue
                raise CleverUnavailable(f"Clever did not answer ({e.reason}).") from e
            status = response.status_code
            if status == 429:
                if limited >= policy.max_rate_limit_retries:
                    raise CleverRateLimited(clever_status=429, retry_after=self._reset_wait(response))
                self._wait_rate_limit(policy, response, auth, system)
                limited += 1
                continue
            if status in RETRYABLE_STATUSES:
                if method in IDEMPOTENT_METHODS and attempt < policy.max_retries:
                    self._wait_backoff(policy, attempt, system, f"status {status}")
                    attempt += 1
                    continue
                raise CleverUnavailable(f"Clever answered {status}.", clever_status=status)
            return self._result(response)

    def _result(self, response: requests.Response) -> CleverResponse:
        status = response.status_code
        if _is_html(response):
            raise CleverWrongToken(clever_status=status)
        if status >= 400:
            raise self._error(status, _message(response))
        if not response.content:
            return CleverResponse(status, {}, response.headers)
        try:
            body = response.json()
        except (ValueError, json.JSONDecodeError) as e:
            raise CleverBadResponse("Clever's answer is not JSON.", clever_status=status) from e
        return CleverResponse(status, body, response.headers)

    @staticmethod
    def _error(status: int, message: str) -> CleverApiError:
        detail = f"Clever answered {status}" + (f": {message}" if message else ".")
        if status in (401, 403):
            return CleverTokenRejected(detail, clever_status=status)
        if status == 404:
            return CleverNotFound(detail, clever_status=status)
        if 400 <= status < 500:
            return CleverBadRequest(detail, clever_status=status)
        return CleverUnavailable(detail, clever_status=status)

    def _reset_wait(self, response: requests.Response) -> float:
        raw = response.headers.get("X-RateLimit-Reset", "")
        try:
            reset = float(raw)
        except ValueError:
            return 60.0
        return max(0.0, reset - self._clock())

    def _wait_rate_limit(self, policy: RetryPolicy, response: requests.Response, auth: Auth, system: str) -> None:
        wait = self._reset_wait(response)
        if wait > policy.max_rate_limit_wait_seconds:
            raise CleverRateLimited(
                f"Clever's rate-limit window resets in {wait:.0f} s.", clever_status=429, retry_after=wait
            )
        log_event(log, logging.WARNING, "clever rate limited", system=system, wait_seconds=round(wait, 2))
        if isinstance(auth, Bearer):
            # Every call with this token waits, not only this one.
            self._limiter.block_until(auth.limiter_key, self._clock() + wait)
        else:
            self._sleep(wait)

    def _wait_backoff(self, policy: RetryPolicy, attempt: int, system: str, why: str) -> None:
        wait = policy.backoff(attempt)
        log_event(log, logging.WARNING, "clever call retried", system=system, why=why, attempt=attempt + 1,
                  wait_seconds=round(wait, 2))
        self._sleep(wait)
