"""Admin accounts, sign-in and server-side sessions of the operator console. No Flask here.

* Passwords: argon2id through ``argon2-cffi`` (its default parameters, RFC 9106's second recommendation); a hash
  made with older parameters is re-made at the next good sign-in.
* Second factor: optional TOTP (RFC 6238, ``pyotp``), 30-second steps, one step of drift either way. The secret is
  encrypted at rest and shown once, when it is made.
* Sessions: a random 256-bit token in the cookie, only its SHA-256 stored. Every sign-in makes a new one (the old
  one, if the browser had one, is deleted): a token planted before sign-in is worth nothing after it. A session
  unused for the idle timeout, or older than the maximum age, is over.
* Lockout: after ``Lockout.attempts`` failed sign-ins in a row (wrong password or wrong code) an account is locked for
  ``Lockout.period``, whichever addresses the attempts came from (the rate limit is per address; this is per
  account). A locked account's sign-in is refused with the one answer every refusal gets, even with the right
  password, and is not counted; a good sign-in starts the count again; an admin can unlock it. The counter lives in
  the database, so every replica counts together.
* Passwords change with the current one (``change_password``: every session of the account ends and the browser
  that changed it gets a new one) or are set by an operator (``set_password``, the CLI).

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
class Lockout:
    """How many failed sign-ins in a row lock an account, and for how long."""

    attempts: int = 10
    period: dt.timedelta = dt.timedelta(minutes=15)


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
    locked_until: str | None  # only while the lock holds
    failed_sign_ins: int


@dataclass(frozen=True)
class NewAccount:
    info: AccountInfo
    totp_secret: str | None  # shown once
    totp_uri: str | None


def _locked(row: AdminAccountRow, now: dt.datetime) -> bool:
    return row.locked_until is not None and row.locked_until > now


def _info(row: AdminAccountRow, now: dt.datetime | None = None) -> AccountInfo:
    locked = _locked(row, now or utcnow())
    return AccountInfo(row.id, row.name, row.role, row.totp_secret_encrypted is not None, iso(row.created_at),
                       iso(row.last_sign_in_at), iso(row.disabled_at), iso(row.locked_until) if locked else None,
                       row.failed_sign_ins or 0)


def check_password(password: object) -> str:
    """The one rule for a new password (``create``, ``change_password``, ``set_password``): its length."""
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise errors.AccountInvalid(f"The password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters.")
    return password


class AdminAccounts:
    def __init__(self, db: Database, cipher: Cipher, *, idle_timeout: dt.timedelta, max_age: dt.timedelta,
                 lockout: Lockout | None = None, hasher: PasswordHasher | None = None) -> None:
        self._db = db
        self._cipher = cipher
        self._idle = idle_timeout
        self._max_age = max_age
        self._lockout = lockout or Lockout()
        self._hasher = hasher or PasswordHasher()
        # Verified against when the name is unknown, so the time taken does not say which names exist.
        self._decoy = self._hasher.hash(secrets.token_urlsafe(16))

    # -- accounts -------------------------------------------------------------------------------------------

    def create(self, name: str, password: str, role: str, *, totp: bool, actor: str) -> NewAccount:
        if not isinstance(name, str) or not NAME.match(name):
            raise errors.AccountInvalid("The name must be 1 to 100 letters, digits, dots, dashes or underscores.")
        check_password(password)
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

    def unlock(self, account_id: str, *, actor: str, now: dt.datetime | None = None) -> AccountInfo:
        """End a lock and start the failure count again. An account that is not locked is left as it is."""
        now = now or utcnow()
        with self._db.transaction() as s:
            row = AdminAccountRepository(s).get(account_id)
            if row is None:
                raise errors.AccountNotFound()
            if _locked(row, now) or row.failed_sign_ins:
                AuditRepository(s).record(actor, "console.account.unlock", f"admin_account:{row.id}", name=row.name,
                                          was_locked=_locked(row, now), failed_sign_ins=row.failed_sign_ins)
                row.locked_until = None
                row.failed_sign_ins = 0
            s.flush()
            return _info(row, now)

    def set_password(self, account_id: str, password: str, *, actor: str) -> AccountInfo:
        """An operator sets an account's password (``gateway admins set-password``): every session of the account
        ends. The lock, if any, stays (``unlock`` ends it)."""
        check_password(password)
        with self._db.transaction() as s:
            row = AdminAccountRepository(s).get(account_id)
            if row is None:
                raise errors.AccountNotFound()
            row.password_hash = self._hasher.hash(password)
            ended = AdminSessionRepository(s).delete_for_account(row.id)
            AuditRepository(s).record(actor, "console.account.set_password", f"admin_account:{row.id}",
                                      name=row.name, sessions_ended=ended)
            s.flush()
            return _info(row)

    def change_password(self, account_id: str, current: str, new: str, again: str) -> str:
        """A signed-in person changes their own password: the current one, then the new one twice, under the rule
        ``create`` applies. Every session of the account ends; the answer is the new session token for the browser
        that asked. A wrong current password is audited (``console.password.change.refused``) and changes nothing
        else; every other refusal changes nothing at all."""
        token = secrets.token_urlsafe(32)
        with self._db.transaction() as s:
            row = AdminAccountRepository(s).get(account_id)
            if row is None or row.disabled_at is not None:
                raise errors.SignInRequired()
            current_ok = self._password_ok(row.password_hash, current)
            if current_ok:
                if new != again:
                    raise errors.PasswordMismatch()
                check_password(new)
                if new == current:
                    raise errors.AccountInvalid("The new password must differ from the current one.")
                row.password_hash = self._hasher.hash(new)
                sessions = AdminSessionRepository(s)
                ended = sessions.delete_for_account(row.id)
                now = utcnow()
                sessions.add(AdminSessionRow(id=_digest(token), account_id=row.id, created_at=now, last_seen_at=now))
                AuditRepository(s).record(actor_of(row.name), "console.password.change", f"admin_account:{row.id}",
                                          sessions_ended=max(ended - 1, 0))
            else:
                AuditRepository(s).record(actor_of(row.name), "console.password.change.refused",
                                          f"admin_account:{row.id}", reason="current_password")
        if not current_ok:
            raise errors.PasswordWrong()
        return token

    # -- sign-in and sessions ----------------------------------------------------------------------------------

    def sign_in(self, name: str, password: str, code: str | None, *, previous_token: str | None = None,
                now: dt.datetime | None = None) -> str:
        """Check the credentials and start a session: the new cookie token. Refused alike for every reason (an
        unknown name, a wrong password or code, a disabled or a locked account), after the same argon2 work."""
        known = isinstance(name, str) and NAME.match(name) is not None
        now = now or utcnow()
        token = secrets.token_urlsafe(32)
        with self._db.transaction() as s:
            repo = AdminAccountRepository(s)
            audit = AuditRepository(s)
            row = repo.by_name(name) if known else None
            # Checked whatever else is wrong: an unknown or a locked account costs the same argon2 work as any other.
            password_ok = self._password_ok(row.password_hash if row is not None else self._decoy, password)
            last_step = row.totp_last_step if row is not None else None
            refused = self._refusal(row, password_ok, code, now)
            if row is not None and refused == "credentials":
                refused = self._count_failure(repo, audit, row, now)
            elif row is not None and refused is None and not repo.clear_failures(row.id, now):
                row.totp_last_step = last_step  # locked by another replica since it was read: the code is not spent
                refused = "locked"
            if row is not None and refused is None:
                if self._hasher.check_needs_rehash(row.password_hash):
                    row.password_hash = self._hasher.hash(password)
                sessions = AdminSessionRepository(s)
                if previous_token:
                    sessions.delete(_digest(previous_token))
                sessions.add(AdminSessionRow(id=_digest(token), account_id=row.id, created_at=now, last_seen_at=now))
                row.last_sign_in_at = now
                audit.record(actor_of(row.name), "console.sign_in", f"admin_account:{row.id}")
            else:
                audit.record(actor_of(name) if known else "anonymous", "console.sign_in.refused", "console",
                             reason=refused)
        if refused is not None:
            raise errors.SignInRefused()
        return token

    def _count_failure(self, repo: AdminAccountRepository, audit: AuditRepository, row: AdminAccountRow,
                       now: dt.datetime) -> str:
        """Count a wrong password or code; the one that reaches the limit locks the account (audited)."""
        until = now + self._lockout.period
        locked = repo.count_failure(row.id, now, limit=self._lockout.attempts, until=until)
        if locked is None:
            return "locked"  # by another replica since the row was read: not counted
        if locked:
            audit.record("console", "console.account.lock", f"admin_account:{row.id}", name=row.name,
                         attempts=self._lockout.attempts, until=iso(until))
        return "credentials"

    def _refusal(self, row: AdminAccountRow | None, password_ok: bool, code: str | None,
                 now: dt.datetime) -> str | None:
        """Why a sign-in is refused (for the audit log only; the answer is one for all), or None."""
        if row is None:
            return "credentials"
        if row.disabled_at is not None:
            return "disabled"
        if _locked(row, now):
            return "locked"  # not counted: the lock runs its time whatever is tried
        # (A wrong password never reaches the code check, so a guessed code is not spent on it.)
        if not password_ok or not self._code_ok(row, code, now):
            return "credentials"
        return None

    def _password_ok(self, stored: str, password: object) -> bool:
        if not isinstance(password, str) or len(password) > MAX_PASSWORD:
            return False
        try:
            return bool(self._hasher.verify(stored, password))
        except (VerificationError, InvalidHashError):
            return False

    def _code_ok(self, row: AdminAccountRow, code: str | None, now: dt.datetime) -> bool:
        """No second factor, or a code of the current step (or one either side, for drift) that is newer than the
        last one accepted: a code seen over a shoulder or in a log cannot be used again."""
        if row.totp_secret_encrypted is None:
            return True
        if not code or not code.strip().isdigit() or len(code.strip()) != TOTP_DIGITS:
            return False
        totp = pyotp.TOTP(self._cipher.decrypt(row.totp_secret_encrypted, _totp_context(row.id)))
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
