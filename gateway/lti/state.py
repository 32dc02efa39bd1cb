"""OIDC login state and nonce, kept server-side so that any replica finishes a login another began.

The browser holds only a binding to the state: a ``Secure; SameSite=None; Partitioned`` cookie,
or, when the platform offers it, an entry in the platform's postMessage storage (lti-pm-s v0p1).
The database keeps hashes of state and nonce; the nonce is single use and consumed in the same
transaction that records the launch, after every check (signature first) has passed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from gateway.store import Database
from gateway.store.models.base import utcnow
from gateway.store.models.lti import LtiLoginStateRow
from gateway.store.repositories.lti_launches import LoginStateRepository

COOKIE_PREFIX = "gw_lti_state_"
# Platform storage key for the state (lti-pm-s: the tool picks the key; Canvas suggests a state prefix).
STORAGE_KEY_PREFIX = "state-"


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def cookie_name(state: str) -> str:
    """One cookie per login, so two tool frames on one LMS page do not overwrite each other's state."""
    return COOKIE_PREFIX + digest(state)[:24]


@dataclass(frozen=True)
class LoginState:
    state_hash: str
    nonce_hash: str
    registration_id: str
    deployment_hint: str | None
    target_link_uri: str
    login_hint: str
    message_hint: str | None
    storage_target: str | None
    expires_at: dt.datetime
    used: bool

    @classmethod
    def from_row(cls, row: LtiLoginStateRow | Row[Any]) -> LoginState:
        return cls(
            state_hash=row.state_hash,
            nonce_hash=row.nonce_hash,
            registration_id=row.registration_id,
            deployment_hint=row.deployment_hint,
            target_link_uri=row.target_link_uri,
            login_hint=row.login_hint,
            message_hint=row.message_hint,
            storage_target=row.storage_target,
            expires_at=row.expires_at,
            used=row.used_at is not None,
        )

    def expired(self, now: dt.datetime) -> bool:
        return self.expires_at <= now


@dataclass(frozen=True)
class NewLogin:
    state: str
    nonce: str


class LoginStates:
    def __init__(self, db: Database, ttl_seconds: int) -> None:
        self._db = db
        self._ttl = dt.timedelta(seconds=ttl_seconds)

    def begin(
        self,
        session: Session,
        *,
        registration_id: str,
        target_link_uri: str,
        login_hint: str,
        message_hint: str | None,
        deployment_hint: str | None,
        storage_target: str | None,
    ) -> NewLogin:
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = utcnow()
        LoginStateRepository(session).add(
            state_hash=digest(state),
            nonce_hash=digest(nonce),
            registration_id=registration_id,
            deployment_hint=deployment_hint,
            target_link_uri=target_link_uri,
            login_hint=login_hint,
            message_hint=message_hint,
            storage_target=storage_target,
            created_at=now,
            expires_at=now + self._ttl,
        )
        return NewLogin(state, nonce)

    def find(self, session: Session, state: str) -> LoginState | None:
        row = LoginStateRepository(session).get(digest(state))
        return LoginState.from_row(row) if row is not None else None

    def find_by_nonce(self, session: Session, nonce: str) -> LoginState | None:
        row = LoginStateRepository(session).by_nonce(digest(nonce))
        return LoginState.from_row(row) if row is not None else None

    def consume(self, session: Session, state: str) -> bool:
        """Use the state (and so its nonce) once; False when a concurrent request already did."""
        return LoginStateRepository(session).consume(digest(state), utcnow())

    def purge_expired(self) -> int:
        """Delete states past their expiry (a periodic job; used ones are kept until then for replay answers)."""
        with self._db.transaction() as s:
            return LoginStateRepository(s).purge_expired(utcnow())
