"""Idempotency keys: the first answer to a vendor's write, per (API key, Idempotency-Key)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from gateway.store.models.writeback import IdempotencyKeyRow


class IdempotencyRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, api_key_id: str, key: str) -> IdempotencyKeyRow | None:
        return self._s.get(IdempotencyKeyRow, (api_key_id, key))

    def claim(self, row: IdempotencyKeyRow) -> None:
        """Insert the key. The primary key makes a concurrent duplicate wait, then fail with IntegrityError."""
        self._s.add(row)
        self._s.flush()

    def delete(self, api_key_id: str, key: str) -> None:
        self._s.execute(
            delete(IdempotencyKeyRow).where(IdempotencyKeyRow.api_key_id == api_key_id, IdempotencyKeyRow.key == key)
        )

    def purge_expired(self, now: dt.datetime) -> int:
        result: Any = self._s.execute(delete(IdempotencyKeyRow).where(IdempotencyKeyRow.expires_at < now))
        return int(result.rowcount)

    def count(self) -> int:
        return int(self._s.scalar(select(func.count()).select_from(IdempotencyKeyRow)) or 0)
