"""Launch records and their one-time hand-off codes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Row, Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from gateway.store.models.core import HandoffCodeRow, LaunchRow

_LAUNCHES: Table = LaunchRow.__table__  # type: ignore[assignment]  # a declarative class's table
_CODES: Table = HandoffCodeRow.__table__  # type: ignore[assignment]
# Built once: every launch and redeem runs these.
_LAUNCH_INSERT = insert(_LAUNCHES)
_CODE_INSERT = insert(_CODES)
_LAUNCH_BY_ID = select(_LAUNCHES).where(_LAUNCHES.c.id == bindparam("launch_id"))
_REDEEM = (
    update(_CODES)
    .where(
        _CODES.c.code_hash == bindparam("hash"),
        _CODES.c.redeemed_at.is_(None),
        _CODES.c.expires_at > bindparam("at"),
        _CODES.c.api_key_id.is_(None) | (_CODES.c.api_key_id == bindparam("key_id")),
    )
    .values(redeemed_at=bindparam("at"), redeemed_by=bindparam("key_id"))
    .returning(_CODES.c.launch_id)
)


class LaunchRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, launch: dict[str, Any], code: dict[str, Any]) -> None:
        """Insert a launch record and its code (the columns of ``launches`` and ``handoff_codes``)."""
        self._s.flush()  # a Core insert does not flush the session: the user it names may be new in this transaction
        self._s.execute(_LAUNCH_INSERT, launch)
        self._s.execute(_CODE_INSERT, code)

    def get(self, launch_id: str) -> Row[Any] | None:
        """A launch record's columns (read-only)."""
        return self._s.execute(_LAUNCH_BY_ID, {"launch_id": launch_id}).first()

    def code(self, code_hash: str) -> HandoffCodeRow | None:
        return self._s.get(HandoffCodeRow, code_hash)

    def redeem(self, code_hash: str, api_key_id: str, at: dt.datetime) -> str | None:
        """Use a live code in one statement: the launch id, or None when the code is unknown, bound to another key,
        used or expired (the caller then reads the row to say which). Single use under concurrency."""
        launch_id: str | None = self._s.execute(_REDEEM, {"hash": code_hash, "key_id": api_key_id, "at": at}).scalar()
        return launch_id

    def redeemed_by(self, launch_id: str) -> str | None:
        return self._s.scalars(
            select(HandoffCodeRow.redeemed_by).where(
                HandoffCodeRow.launch_id == launch_id, HandoffCodeRow.redeemed_by.is_not(None)
            )
        ).first()

    def purge_expired(self, now: dt.datetime) -> int:
        result = self._s.execute(delete(LaunchRow).where(LaunchRow.expires_at < now))
        return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult has rowcount
