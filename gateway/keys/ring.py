"""The key ring: loads private keys, knows which one signs, publishes the public JWKS."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from gateway.store import Database
from gateway.store.models.base import utcnow
from gateway.store.models.core import ToolKeyRow
from gateway.store.repositories.tool_keys import ToolKeyRepository

KEY_SIZE = 2048


class NoSigningKey(Exception):
    """No active signing key is loaded; run `gateway keys generate`."""


@dataclass(frozen=True)
class ToolKey:
    kid: str
    private_key: rsa.RSAPrivateKey
    dev: bool

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        jwk.pop("key_ops", None)  # `use` says the same; RFC 7517 advises not to send both
        jwk.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return jwk

    def sign(self, claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid, **(headers or {})})


def thumbprint_kid(key: rsa.RSAPrivateKey) -> str:
    """RFC 7638 JWK thumbprint of the public key: stable, and the same on every replica."""
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    canonical = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def _load_pem(data: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("tool signing keys must be RSA")
    return key


class KeyRing:
    def __init__(self, db: Database, keys_dir: Path, signing_key_pem: str = "") -> None:
        self._db = db
        self._dir = keys_dir
        self._pem_setting = signing_key_pem
        self._keys: dict[str, ToolKey] = {}

    # -- loading -----------------------------------------------------------------------------------

    def load(self) -> None:
        """Read key files (and the key from settings) and make sure each has its metadata row."""
        keys: dict[str, ToolKey] = {}
        if self._dir.is_dir():
            for path in sorted(self._dir.glob("*.pem")):
                dev = path.name.endswith(".dev.pem")
                private = _load_pem(path.read_bytes())
                keys[thumbprint_kid(private)] = ToolKey(thumbprint_kid(private), private, dev)
        if self._pem_setting:
            private = _load_pem(self._pem_setting.encode())
            keys[thumbprint_kid(private)] = ToolKey(thumbprint_kid(private), private, False)
        with self._db.transaction() as s:
            repo = ToolKeyRepository(s)
            has_active = bool(repo.with_status("active"))
            for kid, tool_key in sorted(keys.items(), key=lambda kv: kv[1].dev):
                if repo.get(kid) is None:
                    status = "next" if has_active else "active"
                    now = utcnow()
                    repo.add(
                        ToolKeyRow(
                            kid=kid,
                            status=status,
                            dev=tool_key.dev,
                            public_jwk=tool_key.public_jwk(),
                            created_at=now,
                            activated_at=now if status == "active" else None,
                        )
                    )
                    has_active = has_active or status == "active"
        self._keys = keys

    def generate(self, *, dev: bool = False) -> str:
        """Make a new RSA key, write it (mode 0600) under the keys dir, and register it."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
        kid = thumbprint_kid(key)
        self._dir.mkdir(parents=True, exist_ok=True)
        path = self._dir / (f"{kid}.dev.pem" if dev else f"{kid}.pem")
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        self.load()
        return kid

    def ensure_dev_key(self) -> str | None:
        """In dev mode only: make a key on first run so `make run` works on a bare machine."""
        self.load()
        if self._active_kid() is not None:
            return None
        return self.generate(dev=True)

    # -- use ---------------------------------------------------------------------------------------

    def _active_kid(self) -> str | None:
        with self._db.transaction() as s:
            for row in ToolKeyRepository(s).with_status("active"):
                if row.kid in self._keys:
                    return row.kid
        return None

    def signing_key(self) -> ToolKey:
        kid = self._active_kid()
        if kid is None:
            raise NoSigningKey("no active tool signing key is loaded; run `gateway keys generate`")
        return self._keys[kid]

    def signing_key_is_dev(self) -> bool:
        try:
            return self.signing_key().dev
        except NoSigningKey:
            return False

    def jwks(self) -> dict[str, Any]:
        """Public keys of every key that is not retired: the active key and the next one."""
        with self._db.transaction() as s:
            rows = [r for r in ToolKeyRepository(s).list() if r.status in ("active", "next")]
        return {"keys": [dict(r.public_jwk) for r in rows]}

    def describe(self) -> list[dict[str, Any]]:
        with self._db.transaction() as s:
            rows = ToolKeyRepository(s).list()
        return [
            {
                "kid": r.kid,
                "status": r.status,
                "dev": r.dev,
                "loaded": r.kid in self._keys,
                "created_at": r.created_at.isoformat(),
            }
            for r in rows
        ]
