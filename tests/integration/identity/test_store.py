"""The identity store on SQLite and PostgreSQL: the migration, the roster lookups matching uses, and the link rules
(link, fold a fresh user in, refuse, unlink, conflicts) inside one transaction each."""

from __future__ import annotations

import datetime as dt
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from gateway.clever.privacy import LookupDigest
from gateway.identity.launches import SessionRoster
from gateway.identity.links import REHOME_ADMIN, REHOME_FRESH, REHOME_NEVER, Linked, Links, Refusal
from gateway.identity.resolver import LaunchFacts, resolve
from gateway.identity.rules import MatchRules
from gateway.lti.registrations import add_registration
from gateway.store import Database
from gateway.store.db import alembic_config
from gateway.store.models import Base
from gateway.store.models.base import new_id, utcnow
from gateway.store.models.clever import CleverDistrictRow, CleverRosterSisIdRow, CleverRosterUserRow
from gateway.store.models.core import AuditEntryRow, LaunchRow, UserRow
from gateway.store.models.identity import IdentityPendingLinkRow
from gateway.store.models.lti import LtiIdentityRow
from gateway.store.repositories.identity import PendingLinkRepository
from gateway.store.repositories.identity_people import IdentityPeopleRepository

DIGEST = LookupDigest("store-test-secret")


def test_models_and_migration_agree(database: Database) -> None:
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diffs = [d for d in compare_metadata(context, Base.metadata) if "identity_" in repr(d)]
    assert diffs == []


def test_downgrade_removes_only_the_identity_tables(database: Database) -> None:
    cfg = alembic_config(database.url)
    with database.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0002_lti")  # one parent of the merge point: only 0005 comes off
    tables = set(inspect(database.engine).get_table_names())
    assert not {t for t in tables if t.startswith("identity_")}
    assert {"lti_identities", "clever_roster_users"} <= tables
    database.upgrade()
    assert "identity_matches" in set(inspect(database.engine).get_table_names())


def _registration(db: Database) -> str:
    with db.transaction() as s:
        return add_registration(s, issuer=f"https://lms-{new_id('x')}.example", client_id="c",
                                auth_login_url="https://a", auth_token_url="https://t", jwks_url="https://j").id


def _district(s: Session, district_id: str) -> None:
    s.add(CleverDistrictRow(id=district_id, status="connected", sync_status="never", sync_requested_full=False))
    s.flush()


def _roster_user(s: Session, district_id: str, clever_id: str, *, sis: dict[str, str] | None = None,
                 email: str | None = None, archived: bool = False) -> None:
    s.add(CleverRosterUserRow(id=clever_id, district_id=district_id, roles=list(sis or {"student": ""}),
                              school_ids=[], profile_encrypted="-", email_digest=DIGEST.email(email),
                              archived_at=utcnow() if archived else None))
    s.flush()
    for role, value in (sis or {}).items():
        s.add(CleverRosterSisIdRow(user_id=clever_id, role=role, district_id=district_id, sis_id=value))
    s.flush()


def _identity(s: Session, registration_id: str, sub: str, *, clever_user_id: str | None = None) -> LtiIdentityRow:
    user = UserRow(id=new_id("usr"), clever_user_id=clever_user_id)
    s.add(user)
    s.flush()
    row = LtiIdentityRow(id=new_id("lid"), user_id=user.id, registration_id=registration_id, sub=sub)
    s.add(row)
    s.flush()
    return row


def test_roster_lookups_stay_in_one_district_and_skip_archived_users(database: Database) -> None:
    with database.transaction() as s:
        for district in ("d-1", "d-2"):
            _district(s, district)
        _roster_user(s, "d-1", "c-kid", sis={"student": "S-1"}, email="kid@d1.org")
        _roster_user(s, "d-2", "c-far", sis={"student": "S-1"}, email="kid@d1.org")
        _roster_user(s, "d-1", "c-gone", sis={"student": "S-9"}, email="gone@d1.org", archived=True)
        _roster_user(s, "d-1", "c-twin-a", email="twin@d1.org")
        _roster_user(s, "d-1", "c-twin-b", email="Twin@D1.org")
        roster = SessionRoster(IdentityPeopleRepository(s), DIGEST)
        assert roster.sis_holders("d-1", "S-1") == [("c-kid", "student")]
        assert roster.sis_holders("d-1", "S-9") == []
        assert roster.with_email("d-1", " KID@d1.org") == ["c-kid"]
        assert roster.with_email("d-1", "twin@d1.org") == ["c-twin-a", "c-twin-b"]
        assert roster.district_of("c-far") == "d-2" and roster.district_of("c-gone") is None
        rules = MatchRules(email_matching=True)
        assert resolve(LaunchFacts("d-1", sis_id="S-1"), rules, roster).clever_user_id == "c-kid"
        ambiguous = resolve(LaunchFacts("d-1", email="twin@d1.org"), rules, roster)
        assert ambiguous.clever_user_id is None and ambiguous.conflicts[0].kind == "ambiguous"


def _audit(s: Session) -> list[tuple[str, dict[str, Any]]]:
    return [(a.action, a.details) for a in s.scalars(select(AuditEntryRow).where(
        AuditEntryRow.action.startswith("identity.")).order_by(AuditEntryRow.id))]


def test_link_rules_in_one_transaction(database: Database) -> None:
    registration = _registration(database)
    with database.transaction() as s:
        links = Links(s, "test")
        people = IdentityPeopleRepository(s)
        # A plain link: the identity's user gets the Clever id.
        first = _identity(s, registration, "sub-1")
        linked = links.link(first, "c-1", method="sis_id", reason="why", rehome=REHOME_NEVER, district_id="d-1")
        assert isinstance(linked, Linked) and people.user(first.user_id).clever_user_id == "c-1"  # type: ignore[union-attr]
        # Another account of the same registration may not take the same Clever id.
        second = _identity(s, registration, "sub-2")
        refusal = links.link(second, "c-1", method="email", reason="why", rehome=REHOME_FRESH, district_id="d-1")
        assert isinstance(refusal, Refusal) and refusal.kind == "linked_elsewhere"
        # A Clever user known from a Clever login, and an established LMS user: never merged silently...
        clever_user = UserRow(id=new_id("usr"), clever_user_id="c-2")
        s.add(clever_user)
        s.flush()
        established = _identity(s, registration, "sub-3")
        refusal = links.link(established, "c-2", method="sis_id", reason="why", rehome=REHOME_NEVER, district_id="d-1")
        assert isinstance(refusal, Refusal) and refusal.kind == "different_users"
        # An identity already linked elsewhere is not re-linked to another Clever id.
        refusal = links.link(first, "c-2", method="manual", reason="why", rehome=REHOME_ADMIN, district_id=None)
        assert isinstance(refusal, Refusal) and refusal.kind == "already_linked"
        assert links.check(first, "c-1", REHOME_NEVER) is None  # the same link again is no change
        assert [a for a, _ in _audit(s)] == ["identity.link"]  # refusals write nothing; the caller records them


def test_fold_unlink_and_conflict_bookkeeping(database: Database) -> None:
    registration, other_registration = _registration(database), _registration(database)
    with database.transaction() as s:
        links = Links(s, "test")
        people = IdentityPeopleRepository(s)
        clever_user = UserRow(id=new_id("usr"), clever_user_id="c-9")
        s.add(clever_user)
        s.flush()
        fresh = _identity(s, registration, "sub-fresh")
        made_by_launch = fresh.user_id
        folded = links.link(fresh, "c-9", method="sis_id", reason="roster", rehome=REHOME_FRESH, district_id="d")
        assert isinstance(folded, Linked) and folded.user_id == clever_user.id and folded.moved_from == made_by_launch
        assert people.user(made_by_launch) is None  # the empty user is gone: one gateway user
        # An administrator moves an established identity of another registration; the old user stays.
        established = _identity(s, other_registration, "sub-old")
        old_user = established.user_id
        moved = links.link(established, "c-9", method="manual", reason="same child", rehome=REHOME_ADMIN,
                           district_id="d")
        assert isinstance(moved, Linked) and moved.user_id == clever_user.id and people.user(old_user) is not None
        # Unlink with two identities: the unlinked one leaves for a new user; the Clever id stays.
        removed, new_user = links.unlink(established, reason="mistake")
        assert removed == "c-9" and new_user != clever_user.id
        assert people.user(clever_user.id).clever_user_id == "c-9"  # type: ignore[union-attr]
        assert links.matches.get(established.id).blocked_clever_user_id == "c-9"  # type: ignore[union-attr]
        # Unlink the last identity: the user keeps it and loses the Clever id.
        links.unlink(fresh, reason="wrong person")
        assert people.user(clever_user.id).clever_user_id is None  # type: ignore[union-attr]
        # Conflicts: one open per (identity, kind), counted; a link resolves them.
        first = links.conflict(fresh, kind="ambiguous", method="email", clever_user_ids=("a", "b"), reason="2 fit",
                               district_id="d")
        again = links.conflict(fresh, kind="ambiguous", method="email", clever_user_ids=("a", "b"), reason="2 fit",
                               district_id="d")
        assert again.id == first.id and again.count == 2
        links.link(fresh, "c-10", method="manual", reason="checked", rehome=REHOME_ADMIN, district_id="d")
        assert first.status == "resolved" and links.conflicts.open_for(fresh.id) == []
        actions = [a for a, _ in _audit(s)]
        assert actions == ["identity.link", "identity.link", "identity.unlink", "identity.unlink",
                           "identity.conflict", "identity.link", "identity.conflict.resolve"]


def test_pending_links_expire(database: Database) -> None:
    registration = _registration(database)
    now = utcnow()
    with database.transaction() as s:
        identity = _identity(s, registration, "sub-p")
        for name, expires in (("old", now - dt.timedelta(minutes=1)), ("new", now + dt.timedelta(minutes=5))):
            PendingLinkRepository(s).add(IdentityPendingLinkRow(
                id=new_id("ipl"), token_hash=name * 16, lti_identity_id=identity.id, registration_id=registration,
                deployment_ref="dep", district_id="d", launch_id=new_id("lch"), fresh_user=True,
                record_encrypted="-", status="pending", created_at=now, expires_at=expires))
    with database.transaction() as s:
        assert PendingLinkRepository(s).purge_expired(now) == 1
        assert PendingLinkRepository(s).by_token_hash("old" * 16) is None
        assert PendingLinkRepository(s).by_token_hash("new" * 16) is not None


def test_folding_a_fresh_user_moves_every_row_that_refers_to_it(database: Database) -> None:
    now = utcnow()
    with database.transaction() as s:
        old, new = UserRow(id=new_id("usr")), UserRow(id=new_id("usr"), clever_user_id="c-fold")
        s.add_all([old, new])
        s.flush()
        s.add(LaunchRow(id=new_id("lch"), kind="lti", user_id=old.id, record_encrypted="-", created_at=now,
                        expires_at=now + dt.timedelta(hours=1)))
        s.flush()
        IdentityPeopleRepository(s).fold_user(old.id, new.id)
    with database.transaction() as s:
        assert s.get(UserRow, old.id) is None
        assert [row.user_id for row in s.scalars(select(LaunchRow))] == [new.id]
