"""Who is in an LTI course: recorded by each launch, in the launch's transaction (an LTI launch step).

Grades are accepted only for people known to be in the context. For LTI that is whoever launched the
tool there (with the roles of their latest launch); the platform's Names and Roles service would know
more, but the gateway does not call it yet.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from gateway.handoff import Handoff
from gateway.lti import LAST_LAUNCH_PRECISION, LaunchInProgress, claims, normalize_roles
from gateway.store.models.base import utcnow
from gateway.store.repositories.assignments import ContextMemberRepository


def record_member(session: Session, context_ref: str, user_id: str, raw_roles: Any) -> None:
    roles = normalize_roles([r for r in raw_roles if isinstance(r, str)] if isinstance(raw_roles, list) else [])
    ContextMemberRepository(session).record(context_ref, user_id, list(roles.simple), roles.learner, utcnow(),
                                            precision=LAST_LAUNCH_PRECISION)


class CourseMembership:
    """The launch step: whoever launches in a course becomes one of its members (with the launch's roles)."""

    def before_record(self, work: LaunchInProgress) -> None:
        if work.context is not None:
            record_member(work.session, work.context.id, work.user.id, work.launch.claims.get(claims.ROLES))

    def hand_off(self, work: LaunchInProgress, record: dict[str, Any]) -> Handoff | None:
        return None
