"""API key rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.store.models.core import ApiKeyRow


class ApiKeyRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, row: ApiKeyRow) -> None:
        self._s.add(row)

    def get(self, key_id: str) -> ApiKeyRow | None:
        return self._s.get(ApiKeyRow, key_id)

    def list(self) -> Sequence[ApiKeyRow]:
        return self._s.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.id)).all()

    def touch(self, key_id: str, at: dt.datetime) -> None:
        self._s.execute(update(ApiKeyRow).where(ApiKeyRow.id == key_id).values(last_used_at=at))
