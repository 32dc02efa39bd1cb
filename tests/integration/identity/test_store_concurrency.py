"""The store under load on SQLite and PostgreSQL: two requests linking one Clever id at the same moment, and the
conflict list reading its owners in one query whatever the page size."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select

from gateway.identity.admin import IdentityAdmin
from gateway.identity.links import REHOME_NEVER, Linked, Links, Refusal
from gateway.lti.registrations import add_registration
from gateway.store import Database
from gateway.store.models.base import new_id
from gateway.store.models.core import AuditEntryRow, UserRow
from gateway.store.models.identity import IdentityConflictRow
from gateway.store.models.lti import LtiIdentityRow


def _registration(db: Database) -> str:
    with db.transaction() as s:
        return add_registration(s, issuer=f"https://lms-{new_id('x')}.example", client_id="c",
                                auth_login_url="https://a", auth_token_url="https://t", jwks_url="https://j").id


def _identities(db: Database, registration: str, *subs: str) -> list[str]:
    with db.transaction() as s:
        ids = []
        for sub in subs:
            user = UserRow(id=new_id("usr"))
            s.add(user)
            s.flush()
            row = LtiIdentityRow(id=new_id("lid"), user_id=user.id, registration_id=registration, sub=sub)
            s.add(row)
            s.flush()
            ids.append(row.id)
        return ids


@contextmanager
def _statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_two_links_of_one_clever_id_at_once_give_one_link_and_one_conflict(database: Database) -> None:
    registration = _registration(database)
    first_id, second_id = _identities(database, registration, "sub-a", "sub-b")
    # The second request runs on its own engine, so the test can see the moment it writes the Clever id.
    racer = Database(database.url)
    about_to_write = threading.Event()
    outcome: dict[str, Any] = {}

    def watch(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if " ".join(statement.split()).upper().startswith("UPDATE USERS SET CLEVER_USER_ID"):
            about_to_write.set()

    event.listen(racer.engine, "before_cursor_execute", watch)

    def second() -> None:
        try:
            with racer.transaction() as s:
                identity = s.get(LtiIdentityRow, second_id)
                assert identity is not None
                links = Links(s, "launch-b")
                result = links.link(identity, "c-race", method="sis_id", reason="roster", rehome=REHOME_NEVER,
                                    district_id="d-1")
                if isinstance(result, Refusal):
                    links.conflict(identity, kind=result.kind, method="sis_id", clever_user_ids=result.clever_user_ids,
                                   reason=result.reason, district_id="d-1", details=result.details)
                outcome["result"] = result
        except Exception as e:  # handed to the main thread's assertions
            outcome["error"] = e

    try:
        with database.transaction() as s:
            identity = s.get(LtiIdentityRow, first_id)
            assert identity is not None
            won = Links(s, "launch-a").link(identity, "c-race", method="sis_id", reason="roster",
                                            rehome=REHOME_NEVER, district_id="d-1")
            assert isinstance(won, Linked)
            thread = threading.Thread(target=second)
            thread.start()
            # The second request has checked (and seen no holder: ours is not committed) and now writes.
            assert about_to_write.wait(8), outcome
        thread.join(30)
        assert not thread.is_alive()
    finally:
        racer.dispose()

    assert "error" not in outcome, outcome.get("error")
    lost = outcome["result"]
    assert isinstance(lost, Refusal) and lost.kind == "linked_elsewhere" and lost.details["concurrent"] is True
    with database.transaction() as s:
        holders = s.scalars(select(UserRow.id).where(UserRow.clever_user_id == "c-race")).all()
        first = s.get(LtiIdentityRow, first_id)
        second_row = s.get(LtiIdentityRow, second_id)
        assert first is not None and second_row is not None
        assert holders == [first.user_id]
        [conflict] = s.scalars(select(IdentityConflictRow)).all()
        assert (conflict.kind, conflict.lti_identity_id, conflict.status) == ("linked_elsewhere", second_id, "open")
        links = [a.actor for a in s.scalars(select(AuditEntryRow).where(AuditEntryRow.action == "identity.link"))]
        assert links == ["launch-a"]


def test_the_conflict_list_reads_owners_in_one_query(database: Database) -> None:
    registration = _registration(database)
    ids = _identities(database, registration, *(f"sub-{i}" for i in range(6)))
    with database.transaction() as s:
        links = Links(s, "test")
        for identity_id in ids:
            identity = s.get(LtiIdentityRow, identity_id)
            assert identity is not None
            links.conflict(identity, kind="ambiguous", method="email", clever_user_ids=("a", "b"), reason="2 fit",
                           district_id="d-1")
        owners = {i: s.get(LtiIdentityRow, i).user_id for i in ids}  # type: ignore[union-attr]
    with database.transaction() as s, _statements(database) as seen:
        page, cursor = IdentityAdmin().conflicts(s, "open", None, 5)
    assert len(page) == 5 and cursor is not None
    assert all(row["user_id"] == owners[row["lti_identity_id"]] for row in page)
    assert len([q for q in seen if "lti_identities" in q]) == 1
