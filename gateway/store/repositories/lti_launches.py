"""What an LTI launch reads and writes: login states, identities, contexts, resource links, deep-link requests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from gateway.store.models.core import UserRow
from gateway.store.models.lti import (
    LtiContextRow,
    LtiDeepLinkRequestRow,
    LtiIdentityRow,
    LtiLoginStateRow,
    LtiResourceLinkRow,
)

# The launch's hot statements are built once, here, on the tables (not the ORM entities): SQLAlchemy then
# skips building the expression and its cache key on every request, and returns plain rows.
_STATES: Table = LtiLoginStateRow.__table__  # type: ignore[assignment]  # a declarative class's table
_STATE_INSERT = insert(_STATES)
_STATE_BY_HASH = select(_STATES).where(_STATES.c.state_hash == bindparam("state_hash"))
_STATE_CONSUME = (
    update(_STATES)
    .where(_STATES.c.state_hash == bindparam("hash"), _STATES.c.used_at.is_(None))  # not a column's name
    .values(used_at=bindparam("at"))
)
_IDENTITY_WITH_USER = (
    select(LtiIdentityRow, UserRow)
    .join(UserRow, UserRow.id == LtiIdentityRow.user_id)
    .where(LtiIdentityRow.registration_id == bindparam("registration_id"), LtiIdentityRow.sub == bindparam("sub"))
)
_CONTEXT_WITH_LINK = (
    select(LtiContextRow, LtiResourceLinkRow)
    .outerjoin(
        LtiResourceLinkRow,
        (LtiResourceLinkRow.context_ref == LtiContextRow.id)
        & (LtiResourceLinkRow.resource_link_id == bindparam("resource_link_id")),
    )
    .where(LtiContextRow.registration_id == bindparam("registration_id"),
           LtiContextRow.context_id == bindparam("context_id"))
)


class LoginStateRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, **values: Any) -> None:
        """Insert a login state (the columns of ``lti_login_states``)."""
        self._s.execute(_STATE_INSERT, values)

    def get(self, state_hash: str) -> Row[Any] | None:
        """The state's columns as a row (read-only: the launch consumes it with :meth:`consume`)."""
        return self._s.execute(_STATE_BY_HASH, {"state_hash": state_hash}).first()

    def by_nonce(self, nonce_hash: str) -> LtiLoginStateRow | None:
        return self._s.scalars(select(LtiLoginStateRow).where(LtiLoginStateRow.nonce_hash == nonce_hash)).first()

    def consume(self, state_hash: str, at: dt.datetime) -> bool:
        """Mark the state used; False when another request used it first (single use under concurrency)."""
        result = self._s.execute(_STATE_CONSUME, {"hash": state_hash, "at": at})
        return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult has rowcount

    def purge_expired(self, before: dt.datetime) -> int:
        result = self._s.execute(delete(LtiLoginStateRow).where(LtiLoginStateRow.expires_at < before))
        return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult has rowcount


class IdentityRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def find(self, registration_id: str, sub: str) -> LtiIdentityRow | None:
        return self._s.scalars(
            select(LtiIdentityRow).where(LtiIdentityRow.registration_id == registration_id, LtiIdentityRow.sub == sub)
        ).first()

    def find_with_user(self, registration_id: str, sub: str) -> tuple[LtiIdentityRow, UserRow] | None:
        """The identity and its gateway user, in one statement."""
        found = self._s.execute(_IDENTITY_WITH_USER, {"registration_id": registration_id, "sub": sub}).first()
        return (found[0], found[1]) if found is not None else None

    def many(self, registration_id: str, subs: Sequence[str]) -> dict[str, LtiIdentityRow]:
        """The identities of several platform users of one registration, by ``sub``."""
        if not subs:
            return {}
        rows = self._s.scalars(select(LtiIdentityRow).where(
            LtiIdentityRow.registration_id == registration_id, LtiIdentityRow.sub.in_(list(subs))))
        return {row.sub: row for row in rows}

    def add(self, row: LtiIdentityRow) -> None:
        self._s.add(row)
        self._s.flush()

    def user_of_lti11(self, consumer_key: str, user_id: str) -> UserRow | None:
        """The gateway user an LTI 1.1 identity (consumer key, 1.1 user id) was first recorded for, if any."""
        return self._s.scalars(
            select(UserRow)
            .join(LtiIdentityRow, LtiIdentityRow.user_id == UserRow.id)
            .where(LtiIdentityRow.lti11_consumer_key == consumer_key, LtiIdentityRow.lti11_user_id == user_id)
            .order_by(LtiIdentityRow.created_at, LtiIdentityRow.id)
            .limit(1)
        ).first()


class ContextRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def find_with_link(
        self, registration_id: str, context_id: str, resource_link_id: str
    ) -> tuple[LtiContextRow | None, LtiResourceLinkRow | None]:
        """The course and one of its placements, in one statement (either may be missing)."""
        found = self._s.execute(_CONTEXT_WITH_LINK, {
            "registration_id": registration_id, "context_id": context_id, "resource_link_id": resource_link_id,
        }).first()
        return (found[0], found[1]) if found is not None else (None, None)

    def get(self, context_ref: str) -> LtiContextRow | None:
        return self._s.get(LtiContextRow, context_ref)

    def add(self, row: LtiContextRow) -> None:
        self._s.add(row)
        self._s.flush()


class ResourceLinkRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, link_ref: str) -> LtiResourceLinkRow | None:
        return self._s.get(LtiResourceLinkRow, link_ref)

    def add(self, row: LtiResourceLinkRow) -> None:
        self._s.add(row)
        self._s.flush()


class DeepLinkRequestRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, row: LtiDeepLinkRequestRow) -> None:
        self._s.add(row)

    def get(self, launch_id: str) -> LtiDeepLinkRequestRow | None:
        return self._s.get(LtiDeepLinkRequestRow, launch_id)
