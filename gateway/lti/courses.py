"""The course (context) and placement (resource link) of a launch, with the services the platform granted.

AGS and NRPS endpoints stay here, server-side; the vendor app sees only the gateway ids
(``ctx_...``, ``rlk_...``) and what the endpoints allow. The latest launch's claims win, but a
launch without an AGS or NRPS claim (deep linking, for instance) leaves earlier grants in place.
"""

from __future__ import annotations

import datetime as dt
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


def upsert_placement(
    session: Session, launch: VerifiedLaunch, deployment_ref: str
) -> tuple[LtiContextRow | None, LtiResourceLinkRow | None]:
    """The launch's course and placement, read in one statement, written only where the launch changed them."""
    claim = launch.claim(c.CONTEXT)
    if not claim.get("id"):
        return None, None
    link_id = launch.claim(c.RESOURCE_LINK).get("id")
    found_context, found_link = ContextRepository(session).find_with_link(
        launch.registration.id, str(claim["id"]), str(link_id) if link_id else "")
    context = _upsert_context(session, launch, deployment_ref, found_context)
    link = _upsert_resource_link(session, launch, context, found_link) if link_id else None
    return context, link


def _touch(session: Session, row: LtiContextRow | LtiResourceLinkRow, now: dt.datetime) -> None:
    """``updated_at`` says when the LMS last changed the row, not when it was last launched."""
    if row.updated_at is None or session.is_modified(row):
        row.updated_at = now


def _upsert_context(
    session: Session, launch: VerifiedLaunch, deployment_ref: str, row: LtiContextRow | None
) -> LtiContextRow:
    claim = launch.claim(c.CONTEXT)
    now = utcnow()
    if row is None:
        row = LtiContextRow(
            id=new_id("ctx"), registration_id=launch.registration.id, deployment_ref=deployment_ref,
            context_id=str(claim["id"]), types=[], ags_scopes=[], created_at=now,
        )
        _fill_context(row, launch, deployment_ref)
        row.updated_at = now
        ContextRepository(session).add(row)  # one INSERT with every column
        return row
    _fill_context(row, launch, deployment_ref)
    _touch(session, row, now)
    return row


def _fill_context(row: LtiContextRow, launch: VerifiedLaunch, deployment_ref: str) -> None:
    claim = launch.claim(c.CONTEXT)
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


def _upsert_resource_link(
    session: Session, launch: VerifiedLaunch, context: LtiContextRow, row: LtiResourceLinkRow | None
) -> LtiResourceLinkRow:
    claim = launch.claim(c.RESOURCE_LINK)
    now = utcnow()
    if row is None:
        row = LtiResourceLinkRow(
            id=new_id("rlk"), context_ref=context.id, resource_link_id=str(claim["id"]), created_at=now,
        )
        _fill_link(row, launch)
        row.updated_at = now
        ResourceLinkRepository(session).add(row)
        return row
    _fill_link(row, launch)
    _touch(session, row, now)
    return row


def _fill_link(row: LtiResourceLinkRow, launch: VerifiedLaunch) -> None:
    claim = launch.claim(c.RESOURCE_LINK)
    row.title = _text(claim.get("title"), 500)
    row.description = _text(claim.get("description"), 4000)
    if c.AGS_ENDPOINT in launch.claims:
        row.ags_lineitem_url = _url(launch.claim(c.AGS_ENDPOINT).get("lineitem"))
