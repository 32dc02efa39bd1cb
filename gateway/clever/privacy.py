"""Keyed digests that let the gateway find a roster user by email without keeping the email in the clear.

Email is personal data and Clever does not verify it (Clever's Users docs): the roster keeps it encrypted, and beside it
an HMAC-SHA256 digest of the normalized address under a key derived from ``GATEWAY_SECRET_KEY``. Changing that
secret changes every digest; the next full sync writes them again.
"""

from __future__ import annotations

import hashlib
import hmac


class LookupDigest:
    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode("utf-8"), b"gateway.clever.lookup.v1", hashlib.sha256).digest()

    def email(self, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        normalized = value.strip().lower().encode("utf-8")
        return hmac.new(self._key, b"email:" + normalized, hashlib.sha256).hexdigest()


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()
