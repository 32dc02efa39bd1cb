"""What identity matching reads and changes outside its own tables: gateway users, LTI identities, deployments'
districts, registrations' matching rules, and the Clever roster (SIS ids, email digests) of one district."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.store.models.base import Base, utcnow
from gateway.store.models.clever import CleverDistrictRow, CleverRosterSisIdRow, CleverRosterUserRow
from gateway.store.models.core import LaunchRow, UserRow
from gateway.store.models.lti import LtiDeploymentRow, LtiIdentityRow, LtiRegistrationRow


class IdentityPeopleRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    # -- users and their LTI identities -----------------------------------------------------------------

    def user(self, user_id: str) -> UserRow | None:
        return self._s.get(UserRow, user_id)

    def user_by_clever_id(self, clever_user_id: str) -> UserRow | None:
        return self._s.scalars(select(UserRow).where(UserRow.clever_user_id == clever_user_id)).first()

    def identity(self, lti_identity_id: str) -> LtiIdentityRow | None:
        return self._s.get(LtiIdentityRow, lti_identity_id)

    def owners(self, lti_identity_ids: Sequence[str]) -> dict[str, str]:
        """The gateway user of each LTI identity, in one query (identities that no longer exist are absent)."""
        ids = sorted(set(lti_identity_ids))
        if not ids:
            return {}
        rows = self._s.execute(select(LtiIdentityRow.id, LtiIdentityRow.user_id).where(LtiIdentityRow.id.in_(ids)))
        return {str(identity_id): str(user_id) for identity_id, user_id in rows.all()}

    def identities_of(self, user_id: str) -> Sequence[LtiIdentityRow]:
        return self._s.scalars(
            select(LtiIdentityRow).where(LtiIdentityRow.user_id == user_id).order_by(LtiIdentityRow.created_at,
                                                                                      LtiIdentityRow.id)
        ).all()

    def with_lti11(self, consumer_key: str, user_id: str | None, *, after: str | None,
                   limit: int) -> Sequence[LtiIdentityRow]:
        """The LTI identities recorded with an LTI 1.1 consumer key (and 1.1 user id), ordered by id."""
        query = (select(LtiIdentityRow).where(LtiIdentityRow.lti11_consumer_key == consumer_key)
                 .order_by(LtiIdentityRow.id).limit(limit))
        if user_id is not None:
            query = query.where(LtiIdentityRow.lti11_user_id == user_id)
        if after is not None:
            query = query.where(LtiIdentityRow.id > after)
        return self._s.scalars(query).all()

    def other_identity_on_registration(self, user_id: str, registration_id: str,
                                       except_id: str) -> LtiIdentityRow | None:
        """Another LTI identity of ``user_id`` in the same registration (two LMS accounts, one Clever person)."""
        return self._s.scalars(
            select(LtiIdentityRow).where(
                LtiIdentityRow.user_id == user_id,
                LtiIdentityRow.registration_id == registration_id,
                LtiIdentityRow.id != except_id,
            )
        ).first()

    def set_clever_id(self, user: UserRow, clever_user_id: str) -> bool:
        """Give the user this Clever id; False (nothing changed) when another transaction gave it to a user first.

        The caller's check saw no holder, but another request may link the same Clever id between that check and
        this write. The write itself re-checks (``NOT EXISTS``), and ``uq_users_clever_user_id`` decides between
        two uncommitted writers on PostgreSQL (the loser waits, then fails inside a savepoint, which keeps the
        caller's transaction usable). SQLite has one writer at a time, so there the guarded write alone decides.
        """
        self._s.flush()
        taken = select(UserRow.id).where(UserRow.clever_user_id == clever_user_id).exists()
        write = (update(UserRow).where(UserRow.id == user.id, ~taken).values(clever_user_id=clever_user_id)
                 .execution_options(synchronize_session=False))
        try:
            with self._s.begin_nested():
                done = int(getattr(self._s.execute(write), "rowcount", 0) or 0) == 1
        except IntegrityError:
            done = False
        self._s.refresh(user)
        return done

    def launch_count(self, user_id: str) -> int:
        return int(self._s.scalar(select(func.count()).select_from(LaunchRow).where(LaunchRow.user_id == user_id))
                   or 0)

    def move_identity(self, identity: LtiIdentityRow, user_id: str) -> None:
        identity.user_id = user_id
        self._s.flush()

    def fold_user(self, old_id: str, new_id: str) -> None:
        """Fold a user made a moment ago into the user it turned out to be, then delete it.

        Every row of any feature that refers to ``users.id`` (found through the foreign keys, so features added
        later are covered) moves to ``new_id``; a row the new user already has an equivalent of is dropped.
        Only for a user nothing was handed off for: the vendor never saw ``old_id``.
        """
        self._s.flush()
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if table.name == "users" or not any(
                        fk.column.table.name == "users" and fk.column.name == "id" for fk in column.foreign_keys):
                    continue
                try:
                    with self._s.begin_nested():
                        self._s.execute(update(table).where(column == old_id).values({column.name: new_id}))
                except IntegrityError:
                    self._s.execute(delete(table).where(column == old_id))
        self._s.execute(delete(UserRow).where(UserRow.id == old_id))

    def registration_names(self, ids: Sequence[str]) -> dict[str, LtiRegistrationRow]:
        if not ids:
            return {}
        rows = self._s.scalars(select(LtiRegistrationRow).where(LtiRegistrationRow.id.in_(ids)))
        return {row.id: row for row in rows}

    # -- deployments and registrations --------------------------------------------------------------------

    def deployment(self, deployment_ref: str) -> LtiDeploymentRow | None:
        return self._s.get(LtiDeploymentRow, deployment_ref)

    def deployments(self, *, after: str | None, limit: int) -> Sequence[LtiDeploymentRow]:
        query = select(LtiDeploymentRow).order_by(LtiDeploymentRow.id).limit(limit)
        if after:
            query = query.where(LtiDeploymentRow.id > after)
        return self._s.scalars(query).all()

    def set_deployment_district(self, row: LtiDeploymentRow, district_id: str | None) -> None:
        row.clever_district_id = district_id
        row.updated_at = utcnow()
        self._s.flush()

    def registration(self, registration_id: str) -> LtiRegistrationRow | None:
        return self._s.get(LtiRegistrationRow, registration_id)

    def update_registration_options(self, row: LtiRegistrationRow, changes: dict[str, Any]) -> dict[str, Any]:
        """Set (value) or remove (None) keys of the registration's options; other keys stay as they are."""
        options = dict(row.options or {})
        for key, value in changes.items():
            if value is None:
                options.pop(key, None)
            else:
                options[key] = value
        row.options = options  # a new dict, so the JSON column sees the change
        row.updated_at = utcnow()
        self._s.flush()
        return options

    # -- the Clever roster of one district ------------------------------------------------------------------

    def district(self, district_id: str) -> CleverDistrictRow | None:
        return self._s.get(CleverDistrictRow, district_id)

    def sis_holders(self, district_id: str, sis_id: str) -> list[tuple[str, str]]:
        """(Clever user id, role) of every current roster user holding ``sis_id`` in the district."""
        rows = self._s.execute(
            select(CleverRosterSisIdRow.user_id, CleverRosterSisIdRow.role)
            .join(CleverRosterUserRow, CleverRosterUserRow.id == CleverRosterSisIdRow.user_id)
            .where(
                CleverRosterSisIdRow.district_id == district_id,
                CleverRosterSisIdRow.sis_id == sis_id,
                CleverRosterUserRow.district_id == district_id,
                CleverRosterUserRow.archived_at.is_(None),
            )
            .order_by(CleverRosterSisIdRow.user_id, CleverRosterSisIdRow.role)
        ).all()
        return [(str(user_id), str(role)) for user_id, role in rows]

    def with_email_digest(self, district_id: str, digest: str) -> list[str]:
        return list(self._s.scalars(
            select(CleverRosterUserRow.id)
            .where(
                CleverRosterUserRow.district_id == district_id,
                CleverRosterUserRow.email_digest == digest,
                CleverRosterUserRow.archived_at.is_(None),
            )
            .order_by(CleverRosterUserRow.id)
        ).all())

    def roster_district_of(self, clever_user_id: str) -> str | None:
        """The district whose current roster holds this Clever user, if any (Library users are in none)."""
        row = self._s.get(CleverRosterUserRow, clever_user_id)
        return row.district_id if row is not None and row.archived_at is None else None
