"""Launch records and their one-time hand-off codes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from gateway.store.models.core import HandoffCodeRow, LaunchRow


class LaunchRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, launch: LaunchRow, code: HandoffCodeRow) -> None:
        self._s.add(launch)
        self._s.flush()
        self._s.add(code)

    def get(self, launch_id: str) -> LaunchRow | None:
        return self._s.get(LaunchRow, launch_id)

    def code(self, code_hash: str) -> HandoffCodeRow | None:
        return self._s.get(HandoffCodeRow, code_hash)

    def mark_redeemed(self, code_hash: str, api_key_id: str, at: dt.datetime) -> bool:
        """Mark a code used; False if another request won the race (single use under concurrency)."""
        result = self._s.execute(
            update(HandoffCodeRow)
            .where(HandoffCodeRow.code_hash == code_hash, HandoffCodeRow.redeemed_at.is_(None))
            .values(redeemed_at=at, redeemed_by=api_key_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult has rowcount

    def redeemed_by(self, launch_id: str) -> str | None:
        return self._s.scalars(
            select(HandoffCodeRow.redeemed_by).where(
                HandoffCodeRow.launch_id == launch_id, HandoffCodeRow.redeemed_by.is_not(None)
            )
        ).first()

    def purge_expired(self, now: dt.datetime) -> int:
        result = self._s.execute(delete(LaunchRow).where(LaunchRow.expires_at < now))
        return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult has rowcount
