"""Clever login bookkeeping: states we issued, codes we took, and the hand-off codes a new login supersedes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.store.models.clever import CleverLoginStateRow, CleverOAuthCodeRow
from gateway.store.models.core import HandoffCodeRow, UserRow
from gateway.store.repositories.users import UserRepository


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class CleverLoginRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    # -- states -----------------------------------------------------------------------------------

    def add_state(self, row: CleverLoginStateRow) -> None:
        self._s.add(row)

    def state(self, state_hash: str) -> CleverLoginStateRow | None:
        return self._s.get(CleverLoginStateRow, state_hash)

    def use_state(self, state_hash: str, at: dt.datetime) -> bool:
        """Spend a state once; False if it was already spent (a second tab, a replayed URL)."""
        result = self._s.execute(
            update(CleverLoginStateRow)
            .where(CleverLoginStateRow.state_hash == state_hash, CleverLoginStateRow.used_at.is_(None))
            .values(used_at=at)
        )
        return _rowcount(result) == 1

    # -- codes ------------------------------------------------------------------------------------

    def claim_code(self, code_hash: str, now: dt.datetime, expires_at: dt.datetime, *,
                   state_hash: str | None = None) -> bool:
        """Record a code as taken (with the state it came with). False when it was taken before: never
        exchange it again."""
        try:
            with self._s.begin_nested():
                self._s.add(CleverOAuthCodeRow(code_hash=code_hash, status="pending", state_hash=state_hash,
                                               created_at=now, expires_at=expires_at))
        except IntegrityError:
            return False
        return True

    def code(self, code_hash: str) -> CleverOAuthCodeRow | None:
        return self._s.get(CleverOAuthCodeRow, code_hash)

    def finish_code(self, code_hash: str, launch_id: str, redirect_encrypted: str) -> None:
        self._s.execute(
            update(CleverOAuthCodeRow)
            .where(CleverOAuthCodeRow.code_hash == code_hash)
            .values(status="done", launch_id=launch_id, redirect_encrypted=redirect_encrypted)
        )

    def fail_code(self, code_hash: str, error_code: str) -> None:
        self._s.execute(
            update(CleverOAuthCodeRow)
            .where(CleverOAuthCodeRow.code_hash == code_hash)
            .values(status="failed", error_code=error_code)
        )

    def fail_pending_code(self, code_hash: str, error_code: str) -> bool:
        """A login that never finished (its process died): fail its code unless it finished meanwhile."""
        result = self._s.execute(
            update(CleverOAuthCodeRow)
            .where(CleverOAuthCodeRow.code_hash == code_hash, CleverOAuthCodeRow.status == "pending")
            .values(status="failed", error_code=error_code)
        )
        return _rowcount(result) == 1

    # -- users and hand-off -------------------------------------------------------------------------

    def user_for(self, clever_user_id: str) -> UserRow:
        """The one gateway user of a Clever user id, made on first sight (safe when two logins race)."""
        users = UserRepository(self._s)
        found = users.by_clever_id(clever_user_id)
        if found is not None:
            return found
        try:
            with self._s.begin_nested():
                return users.create(clever_user_id=clever_user_id)
        except IntegrityError:
            again = users.by_clever_id(clever_user_id)
            if again is None:
                raise
            return again

    def handoff_open(self, launch_id: str, now: dt.datetime) -> bool:
        """Is a hand-off code of this launch still unredeemed and unexpired?"""
        found = self._s.scalars(
            select(HandoffCodeRow.code_hash).where(
                HandoffCodeRow.launch_id == launch_id,
                HandoffCodeRow.redeemed_at.is_(None),
                HandoffCodeRow.expires_at > now,
            )
        ).first()
        return found is not None

    def expire_handoff(self, launch_id: str, now: dt.datetime) -> int:
        """A newer login on this browser supersedes an older one: its unredeemed code stops working."""
        result = self._s.execute(
            update(HandoffCodeRow)
            .where(HandoffCodeRow.launch_id == launch_id, HandoffCodeRow.redeemed_at.is_(None),
                   HandoffCodeRow.expires_at > now)
            .values(expires_at=now)
        )
        return _rowcount(result)

    # -- housekeeping -------------------------------------------------------------------------------

    def purge_expired(self, now: dt.datetime) -> int:
        states = self._s.execute(delete(CleverLoginStateRow).where(CleverLoginStateRow.expires_at < now))
        codes = self._s.execute(delete(CleverOAuthCodeRow).where(CleverOAuthCodeRow.expires_at < now))
        return _rowcount(states) + _rowcount(codes)
