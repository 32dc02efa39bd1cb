"""Who launched: the gateway user behind an LTI identity (registration, ``sub``), made on first launch.

Matching an LTI user to a Clever user is the identity feature's job; here a new LTI identity gets a
new gateway user, and a user already linked to Clever shows that link in the launch record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from gateway.lti.migration import Lti1p1Identity
from gateway.store.models.base import new_id, utcnow
from gateway.store.models.lti import LtiIdentityRow
from gateway.store.repositories.lti_launches import IdentityRepository
from gateway.store.repositories.users import UserRepository

# ``last_launch_at`` is kept to this precision: a write per launch would serialize a class's launches on SQLite.
LAST_LAUNCH_PRECISION = dt.timedelta(hours=1)


@dataclass(frozen=True)
class LaunchUser:
    id: str
    clever_user_id: str | None
    created: bool  # False too for a new LTI identity that joined the user its verified 1.1 identity already was


def stale(stamp: dt.datetime | None, now: dt.datetime, precision: dt.timedelta = LAST_LAUNCH_PRECISION) -> bool:
    """Whether a "last seen" stamp is worth a write: unset, or older than ``precision``."""
    return stamp is None or now - stamp >= precision


def resolve_user(session: Session, registration_id: str, sub: str,
                 lti1p1: Lti1p1Identity | None = None) -> tuple[LaunchUser, LtiIdentityRow]:
    """The launching user and the LTI identity (registration, sub) that launched: one statement when known,
    three when new. The caller keeps the row (the session's identity map holds rows only while referenced).

    ``lti1p1`` is the person's LTI 1.1 identity from a *verified* migration claim: recorded on the LTI identity
    (an UPDATE only when it changed), and a new LTI identity joins the gateway user that 1.1 identity already is
    (one more read), so a district's move from 1.1 to 1.3, or to a new registration, keeps its people."""
    identities = IdentityRepository(session)
    now = utcnow()
    found = identities.find_with_user(registration_id, sub)
    if found is not None:
        identity, user = found
        if stale(identity.last_launch_at, now):
            identity.last_launch_at = now
        _record_lti11(identity, lti1p1)
        return LaunchUser(user.id, user.clever_user_id, created=False), identity
    existing = identities.user_of_lti11(lti1p1.oauth_consumer_key, lti1p1.user_id) if lti1p1 is not None else None
    user = existing or UserRepository(session).create()
    identity = LtiIdentityRow(
        id=new_id("lid"), user_id=user.id, registration_id=registration_id, sub=sub, created_at=now,
        last_launch_at=now,
    )
    _record_lti11(identity, lti1p1)
    identities.add(identity)
    return LaunchUser(user.id, user.clever_user_id, created=existing is None), identity


def _record_lti11(identity: LtiIdentityRow, lti1p1: Lti1p1Identity | None) -> None:
    if lti1p1 is None:
        return
    if (identity.lti11_consumer_key, identity.lti11_user_id) != (lti1p1.oauth_consumer_key, lti1p1.user_id):
        identity.lti11_consumer_key, identity.lti11_user_id = lti1p1.oauth_consumer_key, lti1p1.user_id


def known_user_id(session: Session, registration_id: str, sub: str) -> str | None:
    """The gateway user of an LTI ``sub`` if one launched before (for ``for_user`` in reviews)."""
    identity = IdentityRepository(session).find(registration_id, sub)
    return identity.user_id if identity is not None else None



def roster_users(session: Session, registration_id: str, subs: Sequence[str]) -> dict[str, str]:
    """The gateway user of each platform user a course roster lists (Names and Roles ``user_id`` = the launch's
    ``sub``). Someone who never launched gets a user and an LTI identity now, so a vendor can grade them; their
    first launch finds that identity."""
    identities = IdentityRepository(session)
    found = {sub: row.user_id for sub, row in identities.many(registration_id, list(dict.fromkeys(subs))).items()}
    now = utcnow()
    for sub in dict.fromkeys(subs):
        if sub in found:
            continue
        user = UserRepository(session).create()
        identities.add(LtiIdentityRow(id=new_id("lid"), user_id=user.id, registration_id=registration_id, sub=sub,
                                      created_at=now, last_launch_at=now))
        found[sub] = user.id
    return found
