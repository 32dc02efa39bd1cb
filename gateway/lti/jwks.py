"""Platform public keys: fetched through the gateway's HTTP client, cached, refetched on an unknown ``kid``.

A warm launch makes no outbound call. A ``kid`` the cache does not know triggers one refetch
(platforms rotate keys, Brightspace about hourly), but at most once per cooldown
per JWKS URL, so a stream of forged ``kid`` values cannot turn the gateway against the platform
(OIDC Core 10.1.1). A failed refetch keeps serving the keys already known.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from jwt.exceptions import PyJWKError

from gateway.http import HttpClient, OutboundError
from gateway.lti.errors import IdTokenKidUnknown, PlatformJwksUnavailable
from gateway.lti.metrics import LtiMetrics

SYSTEM = "lti_jwks"
MAX_JWKS_BYTES = 256 * 1024  # a platform publishes a handful of keys; more is not a JWKS


@dataclass
class _Entry:
    keys: dict[str, jwt.PyJWK] = field(default_factory=dict)
    fetched_at: float | None = None  # None: never fetched successfully
    attempted_at: float | None = None


def parse_jwks(document: Any) -> dict[str, jwt.PyJWK]:
    """The usable RS256 signing keys of a JWKS document, by ``kid``; anything else is skipped."""
    keys: dict[str, jwt.PyJWK] = {}
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        return keys
    for jwk in document["keys"]:
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
            continue
        if jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig" or jwk.get("alg", "RS256") != "RS256":
            continue
        try:
            keys[jwk["kid"]] = jwt.PyJWK(jwk, algorithm="RS256")
        except (jwt.PyJWTError, PyJWKError, ValueError, TypeError):
            continue  # one bad key must not hide the platform's good ones
    return keys


class PlatformKeys:
    def __init__(
        self,
        http: HttpClient,
        metrics: LtiMetrics,
        *,
        cache_seconds: float,
        cooldown_seconds: float,
        timeout_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._metrics = metrics
        self._cache_seconds = cache_seconds
        self._cooldown = cooldown_seconds
        self._timeout = timeout_seconds
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def key(self, jwks_url: str, kid: str) -> jwt.PyJWK:
        """The platform key named ``kid``. Raises ``LTI_ID_TOKEN_KID_UNKNOWN`` or ``LTI_PLATFORM_JWKS_UNAVAILABLE``."""
        with self._lock(jwks_url):
            entry = self._entries.setdefault(jwks_url, _Entry())
            now = self._clock()
            fresh = entry.fetched_at is not None and now - entry.fetched_at < self._cache_seconds
            if fresh and kid in entry.keys:
                return entry.keys[kid]
            reason = "cold" if entry.fetched_at is None else ("unknown_kid" if fresh else "expired")
            if entry.attempted_at is not None and now - entry.attempted_at < self._cooldown:
                return self._without_fetch(entry, kid)
            entry.attempted_at = now
            try:
                entry.keys = self._fetch(jwks_url)
            except PlatformJwksUnavailable:
                self._metrics.jwks_fetches.labels(reason=reason, result="error").inc()
                return self._without_fetch(entry, kid, error=True)
            entry.fetched_at = now
            self._metrics.jwks_fetches.labels(reason=reason, result="ok").inc()
            if kid in entry.keys:
                return entry.keys[kid]
            raise IdTokenKidUnknown(f"The platform's JWKS has no key {kid!r}.")

    def _without_fetch(self, entry: _Entry, kid: str, *, error: bool = False) -> jwt.PyJWK:
        if kid in entry.keys:
            return entry.keys[kid]  # stale but known: better than refusing a class while the platform hiccups
        if entry.fetched_at is None or error:
            raise PlatformJwksUnavailable("The platform's JWKS could not be fetched.")
        raise IdTokenKidUnknown(f"The platform's JWKS has no key {kid!r} (refetched recently).")

    def _fetch(self, url: str) -> dict[str, jwt.PyJWK]:
        try:
            response = self._http.request(
                SYSTEM, "GET", url, timeout=self._timeout, headers={"Accept": "application/json"},
                max_bytes=MAX_JWKS_BYTES,
            )
        except OutboundError as e:
            raise PlatformJwksUnavailable(f"Fetching the platform JWKS failed ({e.reason}).") from e
        if response.status_code != 200:
            raise PlatformJwksUnavailable(f"The platform JWKS answered HTTP {response.status_code}.")
        try:
            document = response.json()
        except ValueError as e:
            raise PlatformJwksUnavailable("The platform JWKS is not JSON.") from e
        return parse_jwks(document)

    def _lock(self, url: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(url, threading.Lock())
