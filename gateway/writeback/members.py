"""Who is in an LTI course: recorded by each launch, in the launch's transaction (a hook in ``lti/launch.py``).

Grades are accepted only for people known to be in the context. For LTI that is whoever launched the
tool there (with the roles of their latest launch); the platform's Names and Roles service would know
more, but the gateway does not call it yet.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from gateway.lti.roles import normalize
from gateway.store.models.base import utcnow
from gateway.store.repositories.assignments import ContextMemberRepository


def record_member(session: Session, context_ref: str, user_id: str, raw_roles: Any) -> None:
    roles = normalize([r for r in raw_roles if isinstance(r, str)] if isinstance(raw_roles, list) else [])
    ContextMemberRepository(session).record(context_ref, user_id, list(roles.simple), roles.learner, utcnow())
