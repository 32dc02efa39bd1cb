"""One request to Clever, with Clever's retry rules, through the gateway's :class:`~gateway.http.HttpClient`.

What an answer means is the gateway's one outbound rule (:func:`gateway.retry.decide`); this module adds
what Clever asks of a client (https://dev.clever.com/docs/rate-limits and .../error-messages):

* throttled (429, or a 403 with a spent rate limit): the token is blocked in its budget until
  ``X-RateLimit-Reset`` (a Unix time) or ``Retry-After``, whichever is later (a minute, Clever's window, when
  neither is usable), for every call with it in every process, **also when this call gives up**; then this call
  tries again, any method (Clever did not act on it), unless the wait is beyond its cap: then it fails with the
  wait as its ``retry_after``. An answer with ``X-RateLimit-Remaining: 0`` blocks the token until its reset too.
* transient (408, 5xx, no answer at all): back off exponentially with jitter (never sooner than a
  ``Retry-After``) and try again, for idempotent methods only (a POST may have been applied; its caller owns
  the retry, for example the writeback outbox).
* anything else (400, 401, 403, 404...) is never retried; an HTML body on an API call means a token used
  where it cannot reach.

Clever's 1,200-a-minute limit is per bearer token, so only bearer calls draw from the token's budget
(:mod:`gateway.clever.ratelimit`: one per token for the whole deployment); a call that would wait in it longer
than its cap is not sent (``CLEVER_RATE_LIMITED`` with the wait). The HTTP Basic calls (code exchange, token
list) are not throttled here. Calls made while a person waits (the login callback) use the ``interactive``
limits: few retries, and a 429 waited out only for a few seconds; the code exchange is sent once (``once``).

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
from gateway.clever.ratelimit import BudgetExhausted, TokenBudget
from gateway.http import HttpClient, OutboundError
from gateway.ops.logs import log_event
from gateway.retry import RETRY_HEADERS, backoff_bound, decide, header, parse_rate_limit_reset

log = logging.getLogger("gateway.clever.transport")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE"})
# The longest a login waits out a 429 before the person is told Clever is busy.
INTERACTIVE_RATE_LIMIT_WAIT_SECONDS = 3.0
# A throttled answer without a usable wait hint: Clever's window is a minute.
DEFAULT_RATE_LIMIT_WAIT_SECONDS = 60.0


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
class RetryLimits:
    """How much one call may retry and wait (the rule of what to retry is :mod:`gateway.retry`'s)."""

    max_retries: int = 4
    base_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    max_rate_limit_wait_seconds: float = 90.0
    max_rate_limit_retries: int = 8

    def interactive(self) -> RetryLimits:
        """The limits for calls a person waits on: a Clever code lives a minute, and so does patience."""
        return RetryLimits(
            max_retries=min(self.max_retries, 1),
            base_seconds=min(self.base_seconds, 0.5),
            max_backoff_seconds=min(self.max_backoff_seconds, 2.0),
            max_rate_limit_wait_seconds=min(self.max_rate_limit_wait_seconds, INTERACTIVE_RATE_LIMIT_WAIT_SECONDS),
            max_rate_limit_retries=1,
        )

    def backoff(self, attempt: int) -> float:
        """Equal jitter: a random wait between half the bound and the bound (``attempt`` counts from 0).

        Unlike the outbox's full jitter (which spreads many rows), an in-call retry waits at least half the
        bound, so a struggling Clever is not asked again at once."""
        ceiling = backoff_bound(attempt + 1, self.base_seconds, self.max_backoff_seconds)
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311  # jitter, not a secret


def kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Clever's rate-limit and retry headers of an answer, kept with a failure for whoever reports it."""
    return {name: value for name in RETRY_HEADERS if (value := header(headers, name)) is not None}


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
        limiter: TokenBudget,
        limits: RetryLimits,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        timeout: float,
    ) -> None:
        self._http = http
        self._limiter = limiter
        self._limits = limits
        self._interactive = limits.interactive()
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
        once: bool = False,
    ) -> CleverResponse:
        """``once``: the request reaches Clever at most once, whatever the answer (a single-use OAuth code)."""
        limits = self._interactive if interactive else self._limits
        if once:
            limits = RetryLimits(max_retries=0, max_rate_limit_wait_seconds=0.0, max_rate_limit_retries=0)
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
                # Clever counts per bearer token: one budget per token for the whole deployment (the limiter's
                # store). Basic calls (code exchange, token list) are not throttled here.
                self._take(auth, limits)
            try:
                response = self._http.request(system, method, url, timeout=timeout or self._timeout, **kwargs)
            except OutboundError as e:
                if method in IDEMPOTENT_METHODS and attempt < limits.max_retries:
                    self._wait_backoff(limits, attempt, system, f"no answer ({e.reason})", None)
                    attempt += 1
                    continue
                raise CleverUnavailable(f"Clever did not answer ({e.reason}).") from e
            status = response.status_code
            now = self._clock()
            decision = decide(status, response.headers, now)
            kept = kept_headers(response.headers)
            if decision.verdict == "throttled":
                wait = DEFAULT_RATE_LIMIT_WAIT_SECONDS if decision.wait is None else decision.wait
                if isinstance(auth, Bearer):
                    # Every call with this token waits, in every process, whether or not this one gives up.
                    self._limiter.block_until(auth.limiter_key, now + wait)
                if limited >= limits.max_rate_limit_retries or wait > limits.max_rate_limit_wait_seconds:
                    raise CleverRateLimited(f"Clever's rate-limit window resets in {wait:.0f} s.",
                                            clever_status=status, retry_after=wait, clever_headers=kept)
                log_event(log, logging.WARNING, "clever rate limited", system=system, wait_seconds=round(wait, 2))
                if not isinstance(auth, Bearer):
                    self._sleep(wait)  # a Bearer call waits in the budget's acquire instead
                limited += 1
                continue
            if decision.verdict == "transient":
                if method in IDEMPOTENT_METHODS and attempt < limits.max_retries:
                    self._wait_backoff(limits, attempt, system, f"status {status}", decision.wait, status)
                    attempt += 1
                    continue
                raise CleverUnavailable(f"Clever answered {status}.", clever_status=status, retry_after=decision.wait,
                                        clever_headers=kept)
            if isinstance(auth, Bearer):
                self._note_spent(auth, response.headers, now)
            return self._result(response, kept)

    def _take(self, auth: Bearer, limits: RetryLimits) -> None:
        try:
            self._limiter.acquire(auth.limiter_key, limits.max_rate_limit_wait_seconds)
        except BudgetExhausted as e:
            why = ("Clever answered 429 to a call with this token" if e.blocked
                   else "this token's share of Clever's rate limit for the minute is spent")
            raise CleverRateLimited(f"{why}; no call with it for {e.wait:.0f} s.", retry_after=e.wait) from e

    def _note_spent(self, auth: Bearer, headers: Mapping[str, str], now: float) -> None:
        """``X-RateLimit-Remaining: 0`` with a reset: Clever's window is spent; nobody calls before the reset."""
        remaining = header(headers, "X-RateLimit-Remaining")
        reset = header(headers, "X-RateLimit-Reset")
        if remaining is None or reset is None or remaining.strip() not in ("0", "0.0"):
            return
        wait = parse_rate_limit_reset(reset, now)
        if wait:
            self._limiter.block_until(auth.limiter_key, now + wait)

    def _result(self, response: requests.Response, kept: dict[str, str]) -> CleverResponse:
        status = response.status_code
        if _is_html(response):
            raise CleverWrongToken(f"Clever answered {status} with HTML, not JSON: check the token (a token used "
                                   "where it cannot reach, or a revoked one).", clever_status=status,
                                   clever_headers=kept)
        if status >= 400:
            raise self._error(status, _message(response), kept)
        if not response.content:
            return CleverResponse(status, {}, response.headers)
        try:
            body = response.json()
        except (ValueError, json.JSONDecodeError) as e:
            raise CleverBadResponse(f"Clever answered {status} with a body that is not JSON.", clever_status=status,
                                    clever_headers=kept) from e
        return CleverResponse(status, body, response.headers)

    @staticmethod
    def _error(status: int, message: str, kept: dict[str, str]) -> CleverApiError:
        detail = f"Clever answered {status}" + (f": {message}" if message else ".")
        if status in (401, 403):
            return CleverTokenRejected(detail, clever_status=status, clever_headers=kept)
        if status == 404:
            return CleverNotFound(detail, clever_status=status, clever_headers=kept)
        if 400 <= status < 500:
            return CleverBadRequest(detail, clever_status=status, clever_headers=kept)
        return CleverUnavailable(detail, clever_status=status, clever_headers=kept)

    def _wait_backoff(self, limits: RetryLimits, attempt: int, system: str, why: str, hint: float | None,
                      status: int = 0) -> None:
        if hint is not None and hint > limits.max_rate_limit_wait_seconds:
            raise CleverUnavailable(f"Clever asked to come back in {hint:.0f} s.", clever_status=status,
                                    retry_after=hint)
        wait = max(limits.backoff(attempt), hint or 0.0)
        log_event(log, logging.WARNING, "clever call retried", system=system, why=why, attempt=attempt + 1,
                  wait_seconds=round(wait, 2))
        self._sleep(wait)
