"""AGS access tokens: OAuth 2 client_credentials with a signed JWT client assertion (RFC 7523).

The assertion: ``iss = sub = client_id``, ``aud`` = the registration's token audience (Brightspace publishes
one apart from the token URL) or else the token URL, ``iat``, ``exp`` (a minute), a fresh ``jti``, RS256 with
the tool key's ``kid``. Tokens are cached per (registration, scopes) until shortly before they expire, **in
memory, per process**: each worker process fetches its own, which costs one token request per hour per
platform and process (LMSs, Canvas among them, rate-limit repeated token requests). A 401 from a service call
drops the cached token so the caller can fetch a new one once (:meth:`AgsTokens.invalidate`). A token that
cannot be had raises :class:`TokenUnavailable` saying why; what that means for a caller (retry or give up) is
the caller's to decide.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import requests

from gateway.http import HttpClient, OutboundError
from gateway.keys import KeyRing, NoSigningKey

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_SECONDS = 60
# Refresh a little early: a token that expires in flight costs a 401 and a second request.
EXPIRY_MARGIN_SECONDS = 30.0
DEFAULT_EXPIRES_IN = 3600.0


@dataclass(frozen=True)
class TokenTarget:
    """Who asks for the token (the tool's registration on one platform) and for what."""

    registration_id: str
    client_id: str
    token_url: str
    audience: str
    scopes: tuple[str, ...]

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        return (self.registration_id, tuple(sorted(self.scopes)))


@dataclass(frozen=True)
class AccessToken:
    value: str
    expires_at: float  # monotonic-free wall clock (time.time()), compared with the same clock


class TokenUnavailable(Exception):
    """No token. ``reason``: ``no_key`` (no tool signing key loaded), ``no_answer`` (``outbound`` says how the
    call failed), ``refused`` (the token endpoint answered ``response``, not 2xx) or ``malformed`` (a 2xx
    without an ``access_token``; ``response`` is it)."""

    def __init__(self, reason: str, message: str, *, response: requests.Response | None = None,
                 outbound: OutboundError | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.response = response
        self.outbound = outbound


class AgsTokens:
    def __init__(
        self,
        http: HttpClient,
        keyring: KeyRing,
        *,
        timeout: float,
        on_fetch: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._http = http
        self._keyring = keyring
        self._timeout = timeout
        self._on_fetch = on_fetch or (lambda outcome: None)
        self._clock = clock
        self._cache: dict[tuple[str, tuple[str, ...]], AccessToken] = {}
        self._locks: dict[tuple[str, tuple[str, ...]], threading.Lock] = {}
        self._guard = threading.Lock()

    def token(self, target: TokenTarget) -> str:
        """A valid access token for ``target``; fetched at most once at a time per (registration, scopes)."""
        cached = self._fresh(target)
        if cached is not None:
            return cached
        with self._lock_for(target):
            cached = self._fresh(target)  # another thread may have fetched it while we waited
            if cached is not None:
                return cached
            token = self._fetch(target)
            with self._guard:
                self._cache[target.key] = token
            return token.value

    def invalidate(self, target: TokenTarget, value: str) -> None:
        """Forget ``value`` (the platform said 401 to it), unless a newer token already replaced it."""
        with self._guard:
            cached = self._cache.get(target.key)
            if cached is not None and cached.value == value:
                del self._cache[target.key]

    def _fresh(self, target: TokenTarget) -> str | None:
        with self._guard:
            cached = self._cache.get(target.key)
        if cached is not None and cached.expires_at > self._clock():
            return cached.value
        return None

    def _lock_for(self, target: TokenTarget) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(target.key, threading.Lock())

    def assertion(self, target: TokenTarget) -> str:
        now = int(self._clock())
        claims = {
            "iss": target.client_id,
            "sub": target.client_id,
            "aud": target.audience,
            "iat": now,
            "exp": now + ASSERTION_SECONDS,
            "jti": uuid.uuid4().hex,
        }
        return self._keyring.signing_key().sign(claims)

    def _fetch(self, target: TokenTarget) -> AccessToken:
        try:
            assertion = self.assertion(target)
        except NoSigningKey as e:
            self._on_fetch("no_key")
            raise TokenUnavailable("no_key", "no tool signing key is loaded") from e
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
            "scope": " ".join(target.scopes),
        }
        try:
            response = self._http.request("ags_token", "POST", target.token_url, data=form,
                                          headers={"Accept": "application/json"}, timeout=self._timeout)
        except OutboundError as e:
            self._on_fetch("no_answer")
            raise TokenUnavailable("no_answer", f"no answer from {e.system}: {e.reason}", outbound=e) from e
        if not 200 <= response.status_code <= 299:
            self._on_fetch("refused")
            raise TokenUnavailable("refused", f"the platform's token endpoint answered {response.status_code}",
                                   response=response)
        token = self._parse(response)
        self._on_fetch("fetched")
        return token

    def _parse(self, response: requests.Response) -> AccessToken:
        try:
            body = response.json()
        except ValueError:
            body = None
        value = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(value, str) or not value:
            self._on_fetch("malformed")
            raise TokenUnavailable("malformed", "the platform's token endpoint answered without an access_token",
                                   response=response)
        expires_in = body.get("expires_in") if isinstance(body, dict) else None
        seconds = float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else DEFAULT_EXPIRES_IN
        return AccessToken(value, self._clock() + max(0.0, seconds - EXPIRY_MARGIN_SECONDS))
