"""Issue and redeem one-time hand-off codes. No Flask here."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import Row
from sqlalchemy.orm import Session

from gateway.api.keys import ApiKey
from gateway.crypto import Cipher
from gateway.handoff.errors import (
    HandoffCodeExpired,
    HandoffCodeInvalid,
    HandoffCodeUnknown,
    HandoffCodeUsed,
    HandoffCodeWrongKey,
    HandoffNotConfigured,
    LaunchNotFound,
)
from gateway.settings import Settings
from gateway.store import Database
from gateway.store.models.base import new_id, utcnow
from gateway.store.repositories.api_keys import ApiKeyRepository
from gateway.store.repositories.launches import LaunchRepository

_CODE_FORMAT = re.compile(r"^[A-Za-z0-9_-]{43}$")
# How long a launch record stays readable after the code is redeemed (deep linking, re-reads).
LAUNCH_RETENTION = dt.timedelta(hours=24)


@dataclass(frozen=True)
class CodeStatus:
    """What became of a code, read without using it: ``live``, ``redeemed``, ``expired`` or ``unknown``."""

    state: str
    launch_id: str | None = None


@dataclass(frozen=True)
class Handoff:
    launch_id: str
    code: str
    redirect_url: str


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def _context(launch_id: str) -> str:
    return f"launches.record:{launch_id}"


class HandoffService:
    def __init__(self, db: Database, cipher: Cipher, settings: Settings) -> None:
        self._db = db
        self._cipher = cipher
        self._ttl = dt.timedelta(seconds=settings.handoff_code_ttl_seconds)
        self._vendor_url = settings.vendor_launch_url
        self._default_key_id = settings.handoff_api_key_id or None

    def issue(
        self,
        session: Session,
        kind: str,
        record: dict[str, Any],
        *,
        user_id: str | None,
        api_key_id: str | None = None,
        launch_id: str | None = None,
    ) -> Handoff:
        """Store the launch record (encrypted) and a fresh code for it, in the caller's transaction (so a launch
        and the state change that produced it commit together).

        The code is bound to ``api_key_id``, else to ``GATEWAY_HANDOFF_API_KEY_ID``; a bound code can be
        redeemed by that key only, so another app holding the `launches` scope cannot take the launch.
        """
        now = utcnow()
        api_key_id = api_key_id or self._default_key_id
        if api_key_id is not None and ApiKeyRepository(session).get(api_key_id) is None:
            raise HandoffNotConfigured(
                f"GATEWAY_HANDOFF_API_KEY_ID names API key {api_key_id!r}, which does not exist."
            )
        launch_id = launch_id or new_id("lch")
        document = {"id": launch_id, "kind": kind, "created_at": now.isoformat(), **record}
        code = secrets.token_urlsafe(32)
        LaunchRepository(session).add(
            {
                "id": launch_id,
                "kind": kind,
                "user_id": user_id,
                "record_encrypted": self._cipher.encrypt(json.dumps(document), _context(launch_id)),
                "created_at": now,
                "expires_at": now + LAUNCH_RETENTION,
            },
            {"code_hash": _hash(code), "launch_id": launch_id, "api_key_id": api_key_id, "expires_at": now + self._ttl,
             "redeemed_at": None, "redeemed_by": None},
        )
        return Handoff(launch_id, code, self.redirect_url(code))

    def redirect_url(self, code: str) -> str:
        """The vendor launch URL with ``code`` added, keeping any query the vendor configured."""
        parts = urlsplit(self._vendor_url)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "code"]
        query.append(("code", code))
        return urlunsplit(parts._replace(query=urlencode(query)))

    def redeem(self, code: str, key: ApiKey) -> dict[str, Any]:
        """The launch record for a live code; two statements when it is (the code's update, the record's read)."""
        if not _CODE_FORMAT.match(code or ""):
            raise HandoffCodeInvalid()
        code_hash = _hash(code)
        now = utcnow()
        with self._db.transaction() as s:
            repo = LaunchRepository(s)
            launch_id = repo.redeem(code_hash, key.id, now)
            if launch_id is None:
                self._refuse(repo, code_hash, key, now)
            launch = repo.get(launch_id)
            if launch is None:
                raise HandoffCodeUnknown()
            return self._decode(launch)

    @staticmethod
    def _refuse(repo: LaunchRepository, code_hash: str, key: ApiKey, now: dt.datetime) -> NoReturn:
        """Say why a code could not be used (in the order a caller can act on), or that a concurrent request won."""
        row = repo.code(code_hash)
        if row is None:
            raise HandoffCodeUnknown()
        if row.api_key_id is not None and row.api_key_id != key.id:
            raise HandoffCodeWrongKey()
        if row.redeemed_at is not None:
            raise HandoffCodeUsed(extra={"launch_id": row.launch_id} if row.redeemed_by == key.id else None)
        if row.expires_at <= now:
            raise HandoffCodeExpired()
        raise HandoffCodeUsed()

    def status(self, code: str) -> CodeStatus:
        """Where a code stands, without redeeming it (the dev vendor page says why a reload cannot use it again)."""
        if not _CODE_FORMAT.match(code or ""):
            return CodeStatus("unknown")
        with self._db.transaction() as s:
            row = LaunchRepository(s).code(_hash(code))
            if row is None:
                return CodeStatus("unknown")
            if row.redeemed_at is not None:
                return CodeStatus("redeemed", row.launch_id)
            return CodeStatus("expired" if row.expires_at <= utcnow() else "live", row.launch_id)

    def get(self, launch_id: str, key: ApiKey) -> dict[str, Any]:
        """Read a launch again; only the key that redeemed it may, until it expires."""
        with self._db.transaction() as s:
            repo = LaunchRepository(s)
            launch = repo.get(launch_id)
            if launch is None or launch.expires_at <= utcnow() or repo.redeemed_by(launch_id) != key.id:
                raise LaunchNotFound()
            return self._decode(launch)

    def purge_expired(self) -> int:
        """Delete launch records (and their codes) past retention: they hold personal data."""
        with self._db.transaction() as s:
            return LaunchRepository(s).purge_expired(utcnow())

    def _decode(self, launch: Row[Any]) -> dict[str, Any]:
        record: dict[str, Any] = json.loads(self._cipher.decrypt(launch.record_encrypted, _context(launch.id)))
        return record
