"""Encryption at rest for secrets the gateway keeps (OAuth tokens, launch records, key material).

AES-256-GCM with a random 96-bit nonce. The key id travels with the ciphertext
(``v1.<kid>.<base64url(nonce || ciphertext)>``), so keys rotate: the first key
in ``GATEWAY_ENCRYPTION_KEYS`` encrypts, every listed key decrypts, and
``Cipher.needs_reencrypt`` tells a migration job which values to rewrite.
The optional ``context`` is bound as associated data, so a value copied into
another row or column does not decrypt there.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.settings import SettingsError

_VERSION = "v1"


class DecryptionError(Exception):
    """A stored value could not be decrypted: unknown key id, tampering, or the wrong context."""


def _b64d(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _b64e(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class EncryptionKey:
    kid: str
    key: bytes


def parse_keys(spec: str) -> list[EncryptionKey]:
    """Parse ``kid:base64key,kid2:base64key`` (32-byte keys); the first one encrypts."""
    keys: list[EncryptionKey] = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        kid, sep, encoded = item.partition(":")
        if not sep or not kid or "." in kid:
            raise SettingsError("GATEWAY_ENCRYPTION_KEYS", "each entry must be <kid>:<base64 32-byte key>")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error as e:
            raise SettingsError("GATEWAY_ENCRYPTION_KEYS", f"key {kid!r} is not valid base64") from e
        if len(raw) != 32:
            raise SettingsError("GATEWAY_ENCRYPTION_KEYS", f"key {kid!r} must be 32 bytes, got {len(raw)}")
        keys.append(EncryptionKey(kid, raw))
    if not keys:
        raise SettingsError("GATEWAY_ENCRYPTION_KEYS", "at least one key is required")
    if len({k.kid for k in keys}) != len(keys):
        raise SettingsError("GATEWAY_ENCRYPTION_KEYS", "key ids must be unique")
    return keys


def generate_key_spec(kid: str) -> str:
    """A fresh ``kid:base64key`` entry for ``GATEWAY_ENCRYPTION_KEYS``."""
    return f"{kid}:{base64.b64encode(os.urandom(32)).decode('ascii')}"


class Cipher:
    """Encrypts with the first key, decrypts with any."""

    def __init__(self, keys: list[EncryptionKey]) -> None:
        self._primary = keys[0]
        self._by_kid = {k.kid: AESGCM(k.key) for k in keys}

    @classmethod
    def from_spec(cls, spec: str) -> Cipher:
        return cls(parse_keys(spec))

    def encrypt(self, plaintext: str, context: str = "") -> str:
        nonce = os.urandom(12)
        sealed = self._by_kid[self._primary.kid].encrypt(nonce, plaintext.encode("utf-8"), context.encode())
        return f"{_VERSION}.{self._primary.kid}.{_b64e(nonce + sealed)}"

    def decrypt(self, token: str, context: str = "") -> str:
        _, kid, payload = self._split(token)
        aead = self._by_kid.get(kid)
        if aead is None:
            raise DecryptionError(f"no key with id {kid!r} is configured")
        try:
            raw = _b64d(payload)
            return aead.decrypt(raw[:12], raw[12:], context.encode()).decode("utf-8")
        except (InvalidTag, binascii.Error, ValueError) as e:
            raise DecryptionError("ciphertext failed authentication") from e

    def needs_reencrypt(self, token: str) -> bool:
        return self._split(token)[1] != self._primary.kid

    @staticmethod
    def _split(token: str) -> tuple[str, str, str]:
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != _VERSION:
            raise DecryptionError("not a gateway ciphertext")
        return parts[0], parts[1], parts[2]
