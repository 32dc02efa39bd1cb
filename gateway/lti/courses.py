"""The course (context) and placement (resource link) of a launch, with the services the platform granted.

AGS and NRPS endpoints stay here, server-side; the vendor app sees only the gateway ids
(``ctx_...``, ``rlk_...``) and what the endpoints allow. The latest launch's claims win, but a
launch without an AGS or NRPS claim (deep linking, for instance) leaves earlier grants in place.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

import gateway.lti.claims as c
from gateway.lti.validator import VerifiedLaunch
from gateway.store.models.base import new_id, utcnow
from gateway.store.models.lti import LtiContextRow, LtiResourceLinkRow
from gateway.store.repositories.lti_launches import ContextRepository, ResourceLinkRepository


def _text(value: Any, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def _url(value: Any) -> str | None:
    ok = isinstance(value, str) and value.startswith(("https://", "http://")) and len(value) <= 2000
    return value if ok else None


def ags_scopes(launch: VerifiedLaunch) -> list[str]:
    scope = launch.claim(c.AGS_ENDPOINT).get("scope")
    return [s for s in scope if isinstance(s, str)] if isinstance(scope, list) else []


def upsert_context(session: Session, launch: VerifiedLaunch, deployment_ref: str) -> LtiContextRow | None:
    claim = launch.claim(c.CONTEXT)
    if not claim.get("id"):
        return None
    repo = ContextRepository(session)
    now = utcnow()
    row = repo.find(launch.registration.id, str(claim["id"]))
    if row is None:
        row = LtiContextRow(
            id=new_id("ctx"), registration_id=launch.registration.id, deployment_ref=deployment_ref,
            context_id=str(claim["id"]), types=[], ags_scopes=[], created_at=now,
        )
        repo.add(row)
    row.deployment_ref = deployment_ref
    row.title = _text(claim.get("title"), 500)
    row.label = _text(claim.get("label"), 255)
    types = claim.get("type")
    row.types = [t for t in types if isinstance(t, str)] if isinstance(types, list) else []
    if c.AGS_ENDPOINT in launch.claims:
        row.ags_lineitems_url = _url(launch.claim(c.AGS_ENDPOINT).get("lineitems"))
        row.ags_scopes = ags_scopes(launch)
    if c.NRPS_SERVICE in launch.claims:
        row.nrps_url = _url(launch.claim(c.NRPS_SERVICE).get("context_memberships_url"))
    row.updated_at = now
    return row


def upsert_resource_link(session: Session, launch: VerifiedLaunch, context: LtiContextRow) -> LtiResourceLinkRow | None:
    claim = launch.claim(c.RESOURCE_LINK)
    if not claim.get("id"):
        return None
    repo = ResourceLinkRepository(session)
    now = utcnow()
    row = repo.find(context.id, str(claim["id"]))
    if row is None:
        row = LtiResourceLinkRow(
            id=new_id("rlk"), context_ref=context.id, resource_link_id=str(claim["id"]), created_at=now,
        )
        repo.add(row)
    row.title = _text(claim.get("title"), 500)
    row.description = _text(claim.get("description"), 4000)
    if c.AGS_ENDPOINT in launch.claims:
        row.ags_lineitem_url = _url(launch.claim(c.AGS_ENDPOINT).get("lineitem"))
    row.updated_at = now
    return row
