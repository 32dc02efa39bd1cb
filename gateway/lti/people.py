"""Who launched: the gateway user behind an LTI identity (registration, ``sub``), made on first launch.

Matching an LTI user to a Clever user is the identity feature's job; here a new LTI identity gets a
new gateway user, and a user already linked to Clever shows that link in the launch record.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from gateway.store.models.base import new_id, utcnow
from gateway.store.models.lti import LtiIdentityRow
from gateway.store.repositories.lti_launches import IdentityRepository
from gateway.store.repositories.users import UserRepository


@dataclass(frozen=True)
class LaunchUser:
    id: str
    clever_user_id: str | None
    created: bool


def resolve_user(session: Session, registration_id: str, sub: str) -> LaunchUser:
    identities = IdentityRepository(session)
    users = UserRepository(session)
    now = utcnow()
    identity = identities.find(registration_id, sub)
    if identity is not None:
        user = users.get(identity.user_id)
        assert user is not None  # the foreign key guarantees it
        identity.last_launch_at = now
        return LaunchUser(user.id, user.clever_user_id, created=False)
    user = users.create()
    identities.add(
        LtiIdentityRow(
            id=new_id("lid"), user_id=user.id, registration_id=registration_id, sub=sub, created_at=now,
            last_launch_at=now,
        )
    )
    return LaunchUser(user.id, user.clever_user_id, created=True)


def known_user_id(session: Session, registration_id: str, sub: str) -> str | None:
    """The gateway user of an LTI ``sub`` if one launched before (for ``for_user`` in reviews)."""
    identity = IdentityRepository(session).find(registration_id, sub)
    return identity.user_id if identity is not None else None

