"""The roster of an LTI course over Names and Roles (NRPS 2.0), and the members it makes gradable.

``GET /api/v1/contexts/{ctx}/members``: the first page reads the platform's membership container (the
``context_memberships_url`` the launches named, with ``role`` passed on, every ``rel="next"`` page followed,
at most :data:`MAX_PAGES`), with a token for ``contextmembership.readonly`` from the AGS token cache. Each
listed person becomes a gateway user with an LTI identity (if they never launched) and a member of the course
with the roster's roles and status, so a grade for them is accepted and delivered over AGS. Later pages are
served from what that read recorded (the cursor names the read), so paging calls the LMS once. ``changes=true``
follows the platform's ``rel="differences"`` link of the last full read, where it offered one.

Calls run outside the database transaction: one short read of the context, the platform calls, then one write.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from gateway.api.cursor import Cursor
from gateway.errors import GatewayError
from gateway.lti import (
    AgsAnswerError,
    AgsClient,
    AgsNoAnswer,
    TokenTarget,
    TokenUnavailable,
    normalize_roles,
    roster_users,
)
from gateway.lti import claims as c
from gateway.store import Database
from gateway.store.models.base import iso, utcnow
from gateway.store.repositories.assignments import ContextMemberRepository
from gateway.store.repositories.assignments_contexts import WritebackLookup
from gateway.writeback.contexts import resolve
from gateway.writeback.refusals import CapabilityUnavailable

MAX_PAGES: Final = 50
PAGE_LIMIT: Final = "100"
STATUSES: Final = ("Active", "Inactive", "Deleted")
MEMBERS = Cursor("writeback.members", (dt.datetime, str))  # (the roster read, last gateway user id)


class RosterUnavailable(GatewayError):
    code = "NRPS_UNAVAILABLE"
    status = 502
    title = "The LMS did not give the course roster"
    default_hint = "Try again in a minute: the LMS did not answer or is busy."


class RosterRefused(GatewayError):
    code = "NRPS_REFUSED"
    status = 502
    title = "The LMS refused to give the course roster"
    default_hint = ("The LMS administrator must grant the tool the Names and Role Provisioning scope "
                    "(`contextmembership.readonly`); the message says what the LMS answered.")


def _role_matches(wanted: str | None, simple: list[str]) -> bool:
    return wanted is None or wanted.rsplit("#", 1)[-1] in simple


class Roster:
    def __init__(self, db: Database, client: AgsClient) -> None:
        self._db = db
        self._client = client

    def members(self, context_id: str, *, role: str | None, limit: int, cursor: str | None,
                changes: bool) -> tuple[list[dict[str, Any]], str | None]:
        key = MEMBERS.decode(cursor)
        with self._db.transaction() as s:
            context = resolve(s, context_id)
            if context.kind != "lti":
                raise CapabilityUnavailable(
                    "This is a Clever section: read its roster with GET /api/v1/clever/sections/{id}/users.",
                    extra={"capability": "read_roster", "reasons": [{"code": "NOT_LTI", "message":
                           "Names and Roles belongs to LTI courses."}]})
            context.require("read_roster")
            lookup = WritebackLookup(s)
            row = lookup.lti_context(context_id)
            registration = lookup.registration(context.registration_id or "")
            assert row is not None and registration is not None and row.nrps_url is not None
            target = TokenTarget(registration.id, registration.client_id, registration.auth_token_url,
                                 registration.auth_audience or registration.auth_token_url, (c.NRPS_SCOPE,))
            origin, differences, registration_id = row.nrps_url, row.nrps_differences_url, registration.id
        if key is None:
            read_at = utcnow()
            start = differences if changes and differences else origin
            listed, next_differences = self._read(target, start, origin, role)
            with self._db.transaction() as s:
                self._record(s, context_id, registration_id, listed, read_at,
                             next_differences if role is None else None)
            since, after = read_at, None
        else:
            since, after = key
        with self._db.transaction() as s:
            rows = ContextMemberRepository(s).roster_since(context_id, since, after)
            rows = [r for r in rows if _role_matches(role, list(r.roles))]
            page, more = rows[:limit], len(rows) > limit
            people = WritebackLookup(s).roster_people(registration_id, [r.user_id for r in page])
            clever_ids = dict(WritebackLookup(s).user_clever_ids([r.user_id for r in page], []))
            documents = []
            for member in page:
                sub, match = people.get(member.user_id, ("", None))
                clever_id = clever_ids.get(member.user_id)
                documents.append({
                    "user_id": member.user_id, "sub": sub, "roles": list(member.roles), "learner": member.learner,
                    "status": member.nrps_status,
                    "clever": {"user_id": clever_id, "match": match or ("matched" if clever_id else "not_checked")},
                    "listed_at": iso(member.roster_seen_at),
                })
        next_cursor = MEMBERS.encode(since, page[-1].user_id) if more and page else None
        return documents, next_cursor

    def _read(self, target: TokenTarget, start: str, origin: str,
              role: str | None) -> tuple[list[dict[str, Any]], str | None]:
        listed: list[dict[str, Any]] = []
        url: str | None = start
        params: dict[str, str] | None = {"limit": PAGE_LIMIT, **({"role": role} if role else {})}
        differences: str | None = None
        try:
            for _ in range(MAX_PAGES):
                if url is None:
                    break
                page = self._client.membership_page(target, url, params, origin=origin)
                listed.extend(page.members)
                differences = page.differences_url or differences
                url, params = page.next_url, None
        except TokenUnavailable as e:
            if e.reason == "refused":
                raise RosterRefused(f"The LMS refused a token for the roster: {e.message}.") from e
            raise RosterUnavailable(f"No token for the roster: {e.message}.") from e
        except AgsNoAnswer as e:
            raise RosterUnavailable(f"The LMS did not answer: {e}.") from e
        except AgsAnswerError as e:
            if e.status in (429,) or e.status >= 500 or 200 <= e.status < 300:
                raise RosterUnavailable(f"The LMS answered {e.status} to the roster read.") from e
            raise RosterRefused(f"The LMS answered {e.status} to the roster read.") from e
        return listed, differences

    @staticmethod
    def _record(s: Any, context_ref: str, registration_id: str, listed: list[dict[str, Any]], now: dt.datetime,
                differences: str | None) -> None:
        subs = [str(m["user_id"])[:255] for m in listed]
        users = roster_users(s, registration_id, subs)
        members = ContextMemberRepository(s)
        for member, sub in zip(listed, subs, strict=True):
            raw = member.get("roles")
            roles = normalize_roles([r for r in raw if isinstance(r, str)] if isinstance(raw, list) else [])
            status = member.get("status") if member.get("status") in STATUSES else "Active"
            members.record_roster(context_ref, users[sub], list(roles.simple), roles.learner, str(status), now)
        row = WritebackLookup(s).lti_context(context_ref)
        if row is not None and differences is not None:
            row.nrps_differences_url = differences
