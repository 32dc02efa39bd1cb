"""What an LTI launch reads and writes: login states, identities, contexts, resource links, deep-link requests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from gateway.store.models.core import UserRow
from gateway.store.models.lti import (
    LtiContextRow,
    LtiDeepLinkRequestRow,
    LtiIdentityRow,
    LtiLoginStateRow,
    LtiResourceLinkRow,
)


class LoginStateRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, row: LtiLoginStateRow) -> None:
        self._s.add(row)

    def get(self, state_hash: str) -> LtiLoginStateRow | None:
        return self._s.get(LtiLoginStateRow, state_hash)

    def by_nonce(self, nonce_hash: str) -> LtiLoginStateRow | None:
        return self._s.scalars(select(LtiLoginStateRow).where(LtiLoginStateRow.nonce_hash == nonce_hash)).first()

    def consume(self, state_hash: str, at: dt.datetime) -> bool:
        """Mark the state used; False when another request used it first (single use under concurrency)."""
        result = self._s.execute(
            update(LtiLoginStateRow)
            .where(LtiLoginStateRow.state_hash == state_hash, LtiLoginStateRow.used_at.is_(None))
            .values(used_at=at)
        )
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
        found = self._s.execute(
            select(LtiIdentityRow, UserRow)
            .join(UserRow, UserRow.id == LtiIdentityRow.user_id)
            .where(LtiIdentityRow.registration_id == registration_id, LtiIdentityRow.sub == sub)
        ).first()
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


class ContextRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def find(self, registration_id: str, context_id: str) -> LtiContextRow | None:
        return self._s.scalars(
            select(LtiContextRow).where(
                LtiContextRow.registration_id == registration_id, LtiContextRow.context_id == context_id
            )
        ).first()

    def find_with_link(
        self, registration_id: str, context_id: str, resource_link_id: str
    ) -> tuple[LtiContextRow | None, LtiResourceLinkRow | None]:
        """The course and one of its placements, in one statement (either may be missing)."""
        found = self._s.execute(
            select(LtiContextRow, LtiResourceLinkRow)
            .outerjoin(
                LtiResourceLinkRow,
                (LtiResourceLinkRow.context_ref == LtiContextRow.id)
                & (LtiResourceLinkRow.resource_link_id == resource_link_id),
            )
            .where(LtiContextRow.registration_id == registration_id, LtiContextRow.context_id == context_id)
        ).first()
        return (found[0], found[1]) if found is not None else (None, None)

    def get(self, context_ref: str) -> LtiContextRow | None:
        return self._s.get(LtiContextRow, context_ref)

    def add(self, row: LtiContextRow) -> None:
        self._s.add(row)
        self._s.flush()


class ResourceLinkRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def find(self, context_ref: str, resource_link_id: str) -> LtiResourceLinkRow | None:
        return self._s.scalars(
            select(LtiResourceLinkRow).where(
                LtiResourceLinkRow.context_ref == context_ref, LtiResourceLinkRow.resource_link_id == resource_link_id
            )
        ).first()

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
