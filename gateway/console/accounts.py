"""Admin accounts, sign-in and server-side sessions of the operator console. No Flask here.

* Passwords: argon2id through ``argon2-cffi`` (its default parameters, RFC 9106's second recommendation); a hash
  made with older parameters is re-made at the next good sign-in.
* Second factor: optional TOTP (RFC 6238, ``pyotp``), 30-second steps, one step of drift either way. The secret is
  encrypted at rest and shown once, when it is made.
* Sessions: a random 256-bit token in the cookie, only its SHA-256 stored. Every sign-in makes a new one (the old
  one, if the browser had one, is deleted): a token planted before sign-in is worth nothing after it. A session
  unused for the idle timeout, or older than the maximum age, is over.

Every change is written to the audit log in the same transaction, with the acting admin as ``admin:<name>``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

import gateway.console.errors as errors
from gateway.crypto import Cipher
from gateway.store import Database
from gateway.store.models.base import iso, new_id, utcnow
from gateway.store.models.console import ROLES, AdminAccountRow, AdminSessionRow
from gateway.store.repositories.admin_accounts import AdminAccountRepository, AdminSessionRepository
from gateway.store.repositories.audit import AuditRepository

NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
MIN_PASSWORD, MAX_PASSWORD = 12, 200
TOTP_ISSUER = "Gateway console"
TOTP_DIGITS = 6


def actor_of(name: str) -> str:
    """How an admin is named in the audit log."""
    return f"admin:{name}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _totp_context(account_id: str) -> str:
    return f"console.totp:{account_id}"


@dataclass(frozen=True)
class Admin:
    """A signed-in person."""

    id: str
    name: str
    role: str

    @property
    def actor(self) -> str:
        return actor_of(self.name)

    @property
    def can_act(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class AccountInfo:
    id: str
    name: str
    role: str
    totp: bool
    created_at: str
    last_sign_in_at: str | None
    disabled_at: str | None


@dataclass(frozen=True)
class NewAccount:
    info: AccountInfo
    totp_secret: str | None  # shown once
    totp_uri: str | None


def _info(row: AdminAccountRow) -> AccountInfo:
    return AccountInfo(row.id, row.name, row.role, row.totp_secret_encrypted is not None, iso(row.created_at),
                       iso(row.last_sign_in_at), iso(row.disabled_at))


class AdminAccounts:
    def __init__(self, db: Database, cipher: Cipher, *, idle_timeout: dt.timedelta, max_age: dt.timedelta,
                 hasher: PasswordHasher | None = None) -> None:
        self._db = db
        self._cipher = cipher
        self._idle = idle_timeout
        self._max_age = max_age
        self._hasher = hasher or PasswordHasher()
        # Verified against when the name is unknown, so the time taken does not say which names exist.
        self._decoy = self._hasher.hash(secrets.token_urlsafe(16))

    # -- accounts -------------------------------------------------------------------------------------------

    def create(self, name: str, password: str, role: str, *, totp: bool, actor: str) -> NewAccount:
        if not isinstance(name, str) or not NAME.match(name):
            raise errors.AccountInvalid("The name must be 1 to 100 letters, digits, dots, dashes or underscores.")
        if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise errors.AccountInvalid(f"The password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters.")
        if role not in ROLES:
            raise errors.AccountInvalid(f"The role must be one of {', '.join(ROLES)}.")
        account_id = new_id("adm")
        secret = pyotp.random_base32() if totp else None
        row = AdminAccountRow(
            id=account_id, name=name, role=role, password_hash=self._hasher.hash(password),
            totp_secret_encrypted=self._cipher.encrypt(secret, _totp_context(account_id)) if secret else None,
        )
        with self._db.transaction() as s:
            repo = AdminAccountRepository(s)
            if repo.by_name(name) is not None:
                raise errors.AccountExists(f"An account named {name!r} exists.")
            repo.add(row)
            AuditRepository(s).record(actor, "console.account.create", f"admin_account:{account_id}", name=name,
                                      role=role, totp=bool(secret))
            s.flush()
            info = _info(row)
        uri = pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=TOTP_ISSUER) if secret else None
        return NewAccount(info, secret, uri)

    def list(self) -> list[AccountInfo]:
        with self._db.transaction() as s:
            return [_info(r) for r in AdminAccountRepository(s).list()]

    def disable(self, account_id: str, *, actor: str) -> AccountInfo:
        """Disable an account and end its sessions; the last enabled admin stays."""
        with self._db.transaction() as s:
            repo = AdminAccountRepository(s)
            row = repo.get(account_id)
            if row is None:
                raise errors.AccountNotFound()
            if row.disabled_at is None:
                if row.role == "admin" and repo.count_active_admins() <= 1:
                    raise errors.LastAdmin()
                row.disabled_at = utcnow()
                AdminSessionRepository(s).delete_for_account(row.id)
                AuditRepository(s).record(actor, "console.account.disable", f"admin_account:{row.id}", name=row.name)
            s.flush()
            return _info(row)

    # -- sign-in and sessions ----------------------------------------------------------------------------------

    def sign_in(self, name: str, password: str, code: str | None, *, previous_token: str | None = None) -> str:
        """Check the credentials and start a session: the new cookie token. Refused alike for every reason."""
        known = isinstance(name, str) and NAME.match(name) is not None
        token = secrets.token_urlsafe(32)
        with self._db.transaction() as s:
            repo = AdminAccountRepository(s)
            row = repo.by_name(name) if known else None
            password_ok = self._password_ok(row.password_hash if row is not None else self._decoy, password)
            accepted = row is not None and password_ok and row.disabled_at is None and self._code_ok(row, code)
            # (A wrong password never reaches the code check, so a guessed code is not spent on it.)
            if row is not None and accepted:
                if self._hasher.check_needs_rehash(row.password_hash):
                    row.password_hash = self._hasher.hash(password)
                sessions = AdminSessionRepository(s)
                if previous_token:
                    sessions.delete(_digest(previous_token))
                now = utcnow()
                sessions.add(AdminSessionRow(id=_digest(token), account_id=row.id, created_at=now, last_seen_at=now))
                row.last_sign_in_at = now
                AuditRepository(s).record(actor_of(row.name), "console.sign_in", f"admin_account:{row.id}")
            else:
                AuditRepository(s).record(actor_of(name) if known else "anonymous", "console.sign_in.refused",
                                          "console")
        if not accepted:
            raise errors.SignInRefused()
        return token

    def _password_ok(self, stored: str, password: object) -> bool:
        if not isinstance(password, str) or len(password) > MAX_PASSWORD:
            return False
        try:
            return bool(self._hasher.verify(stored, password))
        except (VerificationError, InvalidHashError):
            return False

    def _code_ok(self, row: AdminAccountRow, code: str | None) -> bool:
        """No second factor, or a code of the current step (or one either side, for drift) that is newer than the
        last one accepted: a code seen over a shoulder or in a log cannot be used again."""
        if row.totp_secret_encrypted is None:
            return True
        if not code or not code.strip().isdigit() or len(code.strip()) != TOTP_DIGITS:
            return False
        totp = pyotp.TOTP(self._cipher.decrypt(row.totp_secret_encrypted, _totp_context(row.id)))
        now = utcnow()
        current = totp.timecode(now)
        for step in (current - 1, current, current + 1):
            if hmac.compare_digest(totp.generate_otp(step), code.strip()):
                if row.totp_last_step is not None and step <= row.totp_last_step:
                    return False
                row.totp_last_step = step
                return True
        return False

    def session(self, token: str | None, *, now: dt.datetime | None = None) -> Admin | None:
        """The admin a cookie token names, or None (unknown, idle too long, too old, account disabled)."""
        if not token:
            return None
        now = now or utcnow()
        with self._db.transaction() as s:
            sessions = AdminSessionRepository(s)
            row = sessions.get(_digest(token))
            if row is None:
                return None
            account = AdminAccountRepository(s).get(row.account_id)
            if (account is None or account.disabled_at is not None or now - row.last_seen_at > self._idle
                    or now - row.created_at > self._max_age):
                sessions.delete(row.id)
                return None
            row.last_seen_at = now
            return Admin(account.id, account.name, account.role)

    def sign_out(self, token: str | None) -> None:
        if token:
            with self._db.transaction() as s:
                AdminSessionRepository(s).delete(_digest(token))

    def purge_sessions(self, now: dt.datetime | None = None) -> int:
        now = now or utcnow()
        with self._db.transaction() as s:
            return AdminSessionRepository(s).purge_idle(now - self._idle, now - self._max_age)
