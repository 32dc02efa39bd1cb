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

    def redeem(self, code_hash: str, api_key_id: str, at: dt.datetime) -> str | None:
        """Use a live code in one statement: the launch id, or None when the code is unknown, bound to another key,
        used or expired (the caller then reads the row to say which). Single use under concurrency."""
        launch_id: str | None = self._s.execute(
            update(HandoffCodeRow)
            .where(
                HandoffCodeRow.code_hash == code_hash,
                HandoffCodeRow.redeemed_at.is_(None),
                HandoffCodeRow.expires_at > at,
                (HandoffCodeRow.api_key_id.is_(None)) | (HandoffCodeRow.api_key_id == api_key_id),
            )
            .values(redeemed_at=at, redeemed_by=api_key_id)
            .returning(HandoffCodeRow.launch_id)
        ).scalar()
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
