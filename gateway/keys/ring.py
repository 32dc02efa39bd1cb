"""The key ring: loads private keys, knows which one signs, publishes the public JWKS."""

from __future__ import annotations

import base64
import datetime as dt
import getpass
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from gateway.settings import SettingsError, raise_problems
from gateway.store import Database
from gateway.store.cache import ReadCache
from gateway.store.models.base import utcnow
from gateway.store.models.core import ToolKeyRow
from gateway.store.repositories.audit import AuditRepository
from gateway.store.repositories.tool_keys import ToolKeyRepository

KEY_SIZE = 2048


PROMOTE_ACTOR = "gateway-key-schedule"


def operator_actor() -> str:
    """``cli:<OS user>``: who ran a command, for the audit log (the uid when the user has no name)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return f"cli:uid-{os.getuid()}"


class NoSigningKey(Exception):
    """No active signing key is loaded; run `gateway keys generate`."""


class RotationInProgress(Exception):
    """A next key is already published and waiting to take over signing."""


# Statuses whose public keys are in the JWKS. `expired` keys are kept as history only.
PUBLISHED = ("next", "active", "retired")
# Replicas re-check the rotation schedule at most this often (by the ring's clock).
ADVANCE_EVERY = dt.timedelta(seconds=5)


@dataclass(frozen=True)
class KeyState:
    """A key's row, as signing and the JWKS read it (cached)."""

    kid: str
    status: str
    public_jwk: dict[str, Any]
    created_at: dt.datetime
    retired_at: dt.datetime | None

    @classmethod
    def from_row(cls, row: ToolKeyRow) -> KeyState:
        return cls(row.kid, row.status, dict(row.public_jwk), row.created_at, row.retired_at)


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


NOT_A_KEY = "is not an unencrypted RSA private key in PEM (what `gateway keys generate` writes)"


def check_key_files(keys_dir: Path, signing_key_pem: str) -> None:
    """Every ``*.pem`` in the keys dir and GATEWAY_SIGNING_KEY_PEM load as RSA keys; a refusal names the setting."""
    problems: list[SettingsError] = []
    for path in sorted(keys_dir.glob("*.pem")) if keys_dir.is_dir() else []:
        try:
            _load_pem(path.read_bytes())
        except (ValueError, TypeError, OSError):
            problems.append(SettingsError("GATEWAY_KEYS_DIR", f"{path} {NOT_A_KEY}"))
    if signing_key_pem.strip():
        try:
            _load_pem(signing_key_pem.encode())
        except (ValueError, TypeError):
            problems.append(SettingsError("GATEWAY_SIGNING_KEY_PEM", NOT_A_KEY))
    raise_problems(problems)


class KeyRing:
    """Tool keys and their rotation schedule.

    Rotation without a failed launch or grade: ``rotate()`` publishes a *next* key
    in the JWKS at once, but signing switches to it only after ``publish_delay``,
    when platforms that cache the JWKS have had time to see it. The key it
    replaces is *retired*: still published for ``retire_grace`` so signatures made
    just before the switch keep verifying, then *expired* (out of the JWKS). Every
    replica advances the schedule from the database, so they switch together.
    """

    def __init__(
        self,
        db: Database,
        keys_dir: Path,
        signing_key_pem: str = "",
        *,
        publish_delay: dt.timedelta = dt.timedelta(hours=24),
        retire_grace: dt.timedelta = dt.timedelta(hours=24),
        clock: Callable[[], dt.datetime] = utcnow,
        cache_seconds: float = 5.0,
    ) -> None:
        self._db = db
        # Which key signs and which are published: read once per ``cache_seconds`` (a rotation applied by another
        # process is seen within it; the schedule's own switch is a day after publication, so that is plenty).
        self._states: ReadCache[str, tuple[KeyState, ...]] = ReadCache(db, ("tool_keys",), ttl_seconds=cache_seconds)
        self._dir = keys_dir
        self._pem_setting = signing_key_pem
        self._keys: dict[str, ToolKey] = {}
        self._publish_delay = publish_delay
        self._retire_grace = retire_grace
        self._clock = clock
        self._advanced_at: dt.datetime | None = None

    # -- loading -----------------------------------------------------------------------------------

    def load(self, *, audit_actor: str | None = None) -> None:
        """Read key files (and the key from settings) and make sure each has its metadata row.

        With ``audit_actor``, each row added is audited (``keys.add``) in the same transaction.
        """
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
            active = repo.with_status("active")
            # A dev key whose file was deleted (as production's refusal says to) cannot sign and must not hold
            # back the next key for the publish delay: the first key added replaces it at once.
            stale_dev = [r.kid for r in active if r.dev and r.kid not in keys]
            has_active = len(active) > len(stale_dev)
            for kid, tool_key in sorted(keys.items(), key=lambda kv: kv[1].dev):
                if repo.get(kid) is None:
                    status = "next" if has_active else "active"
                    now = self._clock()
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
                    if status == "active" and stale_dev:
                        repo.retire(stale_dev, now)
                        stale_dev = []
                    if audit_actor is not None:
                        AuditRepository(s).record(audit_actor, "keys.add", kid, status=status, dev=tool_key.dev)
        self._keys = keys

    def generate(self, *, dev: bool = False, audit_actor: str | None = None) -> str:
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
        self.load(audit_actor=audit_actor)
        return kid

    def rotate(self, *, actor: str | None = None) -> str:
        """Publish a new *next* key; it takes over signing after the publish delay.

        Audited (``keys.add`` with status ``next``) as ``actor``, by default the OS user who ran it (``cli:<user>``).
        """
        self.load()
        with self._db.transaction() as s:
            waiting = ToolKeyRepository(s).with_status("next")
        if waiting:
            raise RotationInProgress(f"key {waiting[0].kid} is already waiting to take over signing")
        return self.generate(dev=False, audit_actor=actor or operator_actor())

    def advance(self, *, force: bool = False) -> None:
        """Apply the rotation schedule: promote a next key whose time has come, expire old retired keys."""
        now = self._clock()
        if not force and self._advanced_at is not None and now - self._advanced_at < ADVANCE_EVERY:
            return
        states = self._key_states()
        scheduled = {k.kid for k in states if k.status in ("next", "active")}
        if scheduled - self._keys.keys():
            # `gateway keys rotate` ran in another process: read the new key file, or this serving process
            # would never switch to it and would sign with the old key after it leaves the JWKS.
            self.load()
        due = any(k.status == "next" and k.created_at + self._publish_delay <= now for k in states) or any(
            k.status == "retired" and k.retired_at is not None and k.retired_at < now - self._retire_grace
            for k in states
        )
        if not (force or due):
            self._advanced_at = now
            return
        with self._db.transaction() as s:
            repo = ToolKeyRepository(s)
            for row in repo.with_status("next"):
                # Only a replica holding the private key may switch signing to it.
                if row.created_at + self._publish_delay <= now and row.kid in self._keys:
                    previous = [r.kid for r in repo.with_status("active")]
                    if repo.promote(row.kid, now):  # False: another replica did it (and audited it)
                        AuditRepository(s).record(PROMOTE_ACTOR, "keys.promote", row.kid, retired=previous)
                    break
            repo.expire_retired(now - self._retire_grace)
        self._advanced_at = now

    def ensure_dev_key(self) -> str | None:
        """In dev mode only: make a key on first run so `make run` works on a bare machine."""
        self.load()
        if self._active_kid() is not None:
            return None
        return self.generate(dev=True)

    # -- use ---------------------------------------------------------------------------------------

    def _key_states(self) -> tuple[KeyState, ...]:
        def read() -> tuple[KeyState, ...]:
            with self._db.transaction() as s:
                return tuple(KeyState.from_row(r) for r in ToolKeyRepository(s).list())

        return self._states.get("all", read) or ()

    def _active_kid(self) -> str | None:
        self.advance()
        states = self._key_states()
        for state in states:
            if state.status == "active" and state.kid in self._keys:
                return state.kid
        # A replica that never got the new key file keeps signing with the key it replaced, which
        # platforms still accept while it is published (retired); /readyz and `keys list` show the lag.
        retired = [k for k in states if k.status == "retired" and k.kid in self._keys]
        for state in sorted(retired, key=lambda k: k.retired_at or k.created_at, reverse=True):
            return state.kid
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
        """Public keys of the active key, the next key, and keys retired within the grace period."""
        self.advance()
        return {"keys": [dict(k.public_jwk) for k in self._key_states() if k.status in PUBLISHED]}

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
                "activated_at": r.activated_at.isoformat() if r.activated_at else None,
                "retired_at": r.retired_at.isoformat() if r.retired_at else None,
            }
            for r in rows
        ]
