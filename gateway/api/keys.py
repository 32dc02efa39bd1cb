"""API keys: made by the CLI, shown once, stored as a SHA-256 hash, carrying scopes, revocable.

A key reads ``gw_<key id>.<secret>``. The id finds the row; the secret is compared
in constant time against the stored hash. Secrets are 256 random bits, so a
plain hash is enough (no password stretching needed for high-entropy keys).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from gateway.store import Database
from gateway.store.cache import ReadCache
from gateway.store.models.base import utcnow
from gateway.store.models.core import ApiKeyRow
from gateway.store.repositories.api_keys import ApiKeyRepository
from gateway.store.repositories.audit import AuditRepository

SCOPES = ("launches", "writeback", "roster", "admin")
LAST_USED_PRECISION = dt.timedelta(seconds=60)
_KEY_FORMAT = re.compile(r"^gw_(?P<id>[0-9a-f]{16})\.(?P<secret>[A-Za-z0-9_-]{43})$")


class UnknownScope(ValueError):
    pass


class ApiKeyNotFound(LookupError):
    pass


@dataclass(frozen=True)
class ApiKey:
    """An authenticated caller."""

    id: str
    name: str
    scopes: frozenset[str]

    def has(self, scope: str) -> bool:
        return scope in self.scopes


@dataclass(frozen=True)
class ApiKeyInfo:
    id: str
    name: str
    scopes: list[str]
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


@dataclass(frozen=True)
class _StoredKey:
    """What authentication needs of a key's row (cached: revoking takes effect within the cache bound)."""

    id: str
    name: str
    secret_hash: str
    scopes: frozenset[str]
    revoked: bool
    last_used_at: dt.datetime | None

    @classmethod
    def from_row(cls, row: ApiKeyRow) -> _StoredKey:
        return cls(row.id, row.name, row.secret_hash, frozenset(row.scopes), row.revoked_at is not None,
                   row.last_used_at)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


class ApiKeyService:
    def __init__(self, db: Database, cache_seconds: float = 5.0) -> None:
        """``cache_seconds``: how long a process trusts a key it read; a revocation through another process
        (a replica, the CLI) takes effect within it, through this one at once."""
        self._db = db
        self._stored: ReadCache[str, _StoredKey] = ReadCache(db, ("api_keys",), ttl_seconds=cache_seconds)

    def create(self, name: str, scopes: list[str], *, actor: str = "cli") -> tuple[ApiKeyInfo, str]:
        """Make a key. Returns its info and the full key, which is never shown again."""
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown:
            raise UnknownScope(f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(SCOPES)}")
        if not scopes:
            raise UnknownScope(f"give at least one scope; known: {', '.join(SCOPES)}")
        key_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        row = ApiKeyRow(id=key_id, name=name, secret_hash=_hash(secret), scopes=sorted(set(scopes)))
        with self._db.transaction() as s:
            ApiKeyRepository(s).add(row)
            AuditRepository(s).record(actor, "api_key.create", f"api_key:{key_id}", name=name, scopes=row.scopes)
            s.flush()
            info = self._info(row)
        return info, f"gw_{key_id}.{secret}"

    def authenticate(self, presented: str) -> ApiKey | None:
        """The key's identity, or None for a malformed, unknown, wrong or revoked key."""
        match = _KEY_FORMAT.match(presented)
        if not match:
            return None
        stored = self._stored.get(match["id"], lambda: self._load(match["id"]))
        expected = stored.secret_hash if stored is not None else _hash("0" * 43)
        # Compare even when the row is missing so timing does not reveal which key ids exist.
        ok = hmac.compare_digest(expected, _hash(match["secret"]))
        if stored is None or not ok or stored.revoked:
            return None
        now = utcnow()
        # A write per API call would serialize every request on SQLite; minute precision is enough.
        if stored.last_used_at is None or now - stored.last_used_at > LAST_USED_PRECISION:
            with self._db.transaction() as s:
                ApiKeyRepository(s).touch(stored.id, now)
        return ApiKey(stored.id, stored.name, stored.scopes)

    def _load(self, key_id: str) -> _StoredKey | None:
        with self._db.transaction() as s:
            row = ApiKeyRepository(s).get(key_id)
            return _StoredKey.from_row(row) if row is not None else None

    def list(self) -> list[ApiKeyInfo]:
        with self._db.transaction() as s:
            return [self._info(r) for r in ApiKeyRepository(s).list()]

    def revoke(self, key_id: str, *, actor: str = "cli") -> ApiKeyInfo:
        with self._db.transaction() as s:
            row = ApiKeyRepository(s).get(key_id)
            if row is None:
                raise ApiKeyNotFound(key_id)
            if row.revoked_at is None:
                row.revoked_at = utcnow()
                AuditRepository(s).record(actor, "api_key.revoke", f"api_key:{key_id}")
            s.flush()
            return self._info(row)

    @staticmethod
    def _info(row: ApiKeyRow) -> ApiKeyInfo:
        return ApiKeyInfo(
            id=row.id,
            name=row.name,
            scopes=list(row.scopes),
            created_at=row.created_at.isoformat(),
            last_used_at=row.last_used_at.isoformat() if row.last_used_at else None,
            revoked_at=row.revoked_at.isoformat() if row.revoked_at else None,
        )
