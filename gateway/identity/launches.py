"""The identity step of every LTI launch, inside the launch's transaction (a ``gateway.lti`` launch step).

It reads the launch's claims into :class:`~gateway.identity.resolver.LaunchFacts`, resolves them against the
linked district's roster (a local read: no outbound HTTP on the launch path), makes the link or records the
conflict, and returns the user the launch record must name with the match result (``clever_match``). For an
unmatched person whose registration allows it, :meth:`LaunchIdentity.detour` holds the hand-off back and
sends the browser to link by logging in with Clever first.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from gateway.clever import LookupDigest
from gateway.handoff import Handoff
from gateway.identity.clever_link import CleverLinkFlow
from gateway.identity.links import REHOME_FRESH, REHOME_NEVER, Links, Refusal
from gateway.identity.metrics import IdentityMetrics
from gateway.identity.resolver import UNMATCHED, LaunchFacts, resolve
from gateway.identity.rules import MatchRules
from gateway.lti import Deployment, LaunchInProgress, LaunchUser, VerifiedLaunch, normalize_roles
from gateway.lti import claims as c
from gateway.store.models.base import utcnow
from gateway.store.models.lti import LtiIdentityRow
from gateway.store.repositories.identity_people import IdentityPeopleRepository

ACTOR = "lti-launch"
_NOTE = "identity.match"


class SessionRoster:
    """The roster lookups of :mod:`gateway.identity.resolver`, over the launch's own session."""

    def __init__(self, people: IdentityPeopleRepository, digest: LookupDigest) -> None:
        self._people = people
        self._digest = digest

    def district_of(self, clever_user_id: str) -> str | None:
        return self._people.roster_district_of(clever_user_id)

    def sis_holders(self, district_id: str, sis_id: str) -> list[tuple[str, str]]:
        return self._people.sis_holders(district_id, sis_id)

    def with_email(self, district_id: str, email: str) -> list[str]:
        digest = self._digest.email(email)
        return self._people.with_email_digest(district_id, digest) if digest else []


@dataclass(frozen=True)
class LaunchMatch:
    user: LaunchUser
    clever_match: dict[str, Any]  # the ``clever_match`` of the launch record (``CleverMatch`` in openapi.yaml)
    identity_id: str
    rules: MatchRules

    @property
    def unmatched(self) -> bool:
        return bool(self.clever_match["result"] == UNMATCHED)


def launch_facts(launch: VerifiedLaunch, deployment: Deployment, user: LaunchUser, rules: MatchRules,
                 blocked: str | None) -> LaunchFacts:
    custom = launch.claim(c.CUSTOM)
    claim: object = custom.get(rules.clever_id_param) if rules.clever_id_param else None
    if claim is None and rules.clever_id_from_sub:
        claim = launch.sub
    sis: object = custom.get(rules.sis_id_param) if rules.sis_id_param else launch.claim(c.LIS).get("person_sourcedid")
    raw_roles = launch.claims.get(c.ROLES)
    roles = normalize_roles([r for r in raw_roles if isinstance(r, str)] if isinstance(raw_roles, list) else [])
    email = launch.claims.get("email")
    return LaunchFacts(
        district_id=deployment.clever_district_id,
        linked_clever_user_id=user.clever_user_id,
        blocked_clever_user_id=blocked,
        clever_id_claim=claim if isinstance(claim, str) else None,
        sis_id=str(sis) if isinstance(sis, str | int) and not isinstance(sis, bool) else None,
        email=email if isinstance(email, str) else None,
        learner=roles.learner,
        instructor=roles.instructor or roles.teaching_assistant,
    )


class LaunchIdentity:
    def __init__(self, digest: LookupDigest, metrics: IdentityMetrics, link_flow: CleverLinkFlow, *,
                 clever_available: bool) -> None:
        self._digest = digest
        self._metrics = metrics
        self._link_flow = link_flow
        self._clever_available = clever_available

    def before_record(self, work: LaunchInProgress) -> None:
        """The launch step: resolve the user's Clever identity; the record names the match."""
        match = self.resolve(work.session, work.launch, work.deployment, work.user, work.identity)
        work.user = match.user
        work.clever_match = match.clever_match
        work.notes[_NOTE] = match

    def hand_off(self, work: LaunchInProgress, record: dict[str, Any]) -> Handoff | None:
        match = work.notes.get(_NOTE)
        if not isinstance(match, LaunchMatch):
            return None
        return self.detour(work.session, work.launch, work.deployment, match, record, work.launch_id)

    def resolve(self, session: Session, launch: VerifiedLaunch, deployment: Deployment,
                user: LaunchUser, identity: LtiIdentityRow) -> LaunchMatch:
        links = Links(session, ACTOR)
        rules = MatchRules.from_options(launch.registration.options, launch.registration.issuer)
        before, conflicted = links.matches.with_open_conflict(identity.id)
        conflicts_changed = False  # this launch recorded or resolved a conflict: read the open ones again
        facts = launch_facts(launch, deployment, user, rules, before.blocked_clever_user_id if before else None)
        resolution = resolve(facts, rules, SessionRoster(links.people, self._digest))
        district = facts.district_id
        for found in resolution.conflicts:
            self._conflict(links, identity, found.kind, found.method, found.clever_user_ids, found.reason, district)
            conflicts_changed = True
        result: str = resolution.result
        linked_by: str | None = resolution.result
        if resolution.result == "existing":
            linked_by = before.method if before is not None else None
            links.matches.upsert_changed(before, identity.id, identity.registration_id, status="matched",
                                 clever_user_id=user.clever_user_id, deployment_ref=deployment.id, district_id=district,
                                 **({} if before is not None and before.matched_at else {"matched_at": utcnow()}))
        elif resolution.clever_user_id is not None:
            outcome = links.link(identity, resolution.clever_user_id, method=resolution.result,
                                 reason=resolution.reason, rehome=REHOME_FRESH if user.created else REHOME_NEVER,
                                 district_id=district, deployment_ref=deployment.id)
            if isinstance(outcome, Refusal):
                self._conflict(links, identity, outcome.kind, resolution.result, outcome.clever_user_ids,
                               outcome.reason, district, outcome.details)
                conflicts_changed = True
                result, linked_by = UNMATCHED, None
            else:
                self._metrics.links.labels(method=resolution.result).inc()
                user = replace(user, id=outcome.user_id, clever_user_id=outcome.clever_user_id)
                conflicts_changed = conflicts_changed or outcome.changed
        if conflicts_changed:
            conflicted = bool(links.conflicts.open_for(identity.id))
        if result == UNMATCHED:
            linked_by = None
            if user.clever_user_id is not None:
                # Linked, but to a Clever user of another district: the vendor must not receive that id here.
                user = replace(user, clever_user_id=None)
            status = "unlinked" if before is not None and before.status == "unlinked" else (
                "conflict" if conflicted else "unmatched")
            links.matches.upsert_changed(before, identity.id, identity.registration_id, status=status,
                                 deployment_ref=deployment.id,
                                 district_id=district)
        self._metrics.matches.labels(result=result).inc()
        return LaunchMatch(
            user=user,
            clever_match={
                "result": result,
                "clever_user_id": user.clever_user_id,
                "district_id": district,
                "linked_by": linked_by,
                "conflict": conflicted,
            },
            identity_id=identity.id,
            rules=rules,
        )

    def _conflict(self, links: Links, identity: LtiIdentityRow, kind: str, method: str | None,
                  clever_user_ids: tuple[str, ...], reason: str, district: str | None,
                  details: dict[str, Any] | None = None) -> None:
        links.conflict(identity, kind=kind, method=method, clever_user_ids=clever_user_ids, reason=reason,
                       district_id=district, details=details)
        self._metrics.conflicts.labels(kind=kind).inc()

    def detour(self, session: Session, launch: VerifiedLaunch, deployment: Deployment, match: LaunchMatch,
                  record: dict[str, Any], launch_id: str) -> Handoff | None:
        """Hold the hand-off back and send the person to link with Clever, when that applies; else None."""
        flow = self._link_flow
        if (
            not self._clever_available
            or not match.unmatched
            or match.clever_match["conflict"]
            or not match.rules.clever_login_linking
            or deployment.clever_district_id is None
            # Only a plain launch waits: deep linking and reviews are for teachers at work in the LMS.
            or launch.message_type != c.RESOURCE_LINK_REQUEST
        ):
            return None
        return flow.hold(
            session, identity_id=match.identity_id, registration_id=launch.registration.id,
            deployment_ref=deployment.id, district_id=deployment.clever_district_id, launch_id=launch_id,
            record=record, fresh_user=match.user.created,
        )
