"""Gateway users."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.store.models.base import new_id
from gateway.store.models.core import UserRow


class UserRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, user_id: str) -> UserRow | None:
        return self._s.get(UserRow, user_id)

    def by_clever_id(self, clever_user_id: str) -> UserRow | None:
        return self._s.scalars(select(UserRow).where(UserRow.clever_user_id == clever_user_id)).first()

    def create(self, *, clever_user_id: str | None = None) -> UserRow:
        row = UserRow(id=new_id("usr"), clever_user_id=clever_user_id)
        self._s.add(row)
        self._s.flush()
        return row
