"""Clever repositories on SQLite and PostgreSQL: single use, one user per Clever id, leases, archive/restore."""

from __future__ import annotations

import datetime as dt

from gateway.store import Database
from gateway.store.models.base import utcnow
from gateway.store.models.clever import (
    CleverDistrictRow,
    CleverLoginStateRow,
    CleverRosterUserRow,
    CleverSectionRow,
)
from gateway.store.repositories.clever import CleverLoginRepository
from gateway.store.repositories.clever_roster import CleverDistrictRepository, CleverRosterRepository

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)


def test_a_code_is_claimed_once(database: Database) -> None:
    with database.transaction() as s:
        assert CleverLoginRepository(s).claim_code("h" * 64, NOW, NOW + dt.timedelta(minutes=15))
    with database.transaction() as s:
        repo = CleverLoginRepository(s)
        assert not repo.claim_code("h" * 64, NOW, NOW + dt.timedelta(minutes=15))
        # The failed insert did not spoil the transaction (its savepoint rolled back alone).
        repo.fail_code("h" * 64, "CLEVER_INVALID_GRANT")
    with database.transaction() as s:
        row = CleverLoginRepository(s).code("h" * 64)
        assert row is not None and (row.status, row.error_code) == ("failed", "CLEVER_INVALID_GRANT")


def test_a_state_is_spent_once(database: Database) -> None:
    with database.transaction() as s:
        CleverLoginRepository(s).add_state(CleverLoginStateRow(
            state_hash="s" * 64, binding_hash="b" * 64, district_id=None, origin="app", created_at=NOW,
            expires_at=NOW + dt.timedelta(minutes=10)))
    with database.transaction() as s:
        assert CleverLoginRepository(s).use_state("s" * 64, NOW)
    with database.transaction() as s:
        assert not CleverLoginRepository(s).use_state("s" * 64, NOW)


def test_one_gateway_user_per_clever_user(database: Database) -> None:
    with database.transaction() as s:
        first = CleverLoginRepository(s).user_for("c" * 24).id
    with database.transaction() as s:
        again = CleverLoginRepository(s).user_for("c" * 24).id
        other = CleverLoginRepository(s).user_for("d" * 24).id
    assert first == again != other


def test_expired_rows_are_purged(database: Database) -> None:
    with database.transaction() as s:
        repo = CleverLoginRepository(s)
        repo.claim_code("o" * 64, NOW - dt.timedelta(hours=1), NOW - dt.timedelta(minutes=1))
        repo.claim_code("n" * 64, NOW, NOW + dt.timedelta(minutes=15))
    with database.transaction() as s:
        assert CleverLoginRepository(s).purge_expired(NOW) == 1


def _district(database: Database, district_id: str = "d1") -> None:
    with database.transaction() as s:
        CleverDistrictRepository(s).add(CleverDistrictRow(
            id=district_id, status="connected", sync_status="never", sync_requested_full=False,
            created_at=NOW, updated_at=NOW))


def test_sync_lease_is_exclusive_until_it_lapses(database: Database) -> None:
    _district(database)
    with database.transaction() as s:
        repo = CleverDistrictRepository(s)
        assert repo.due(NOW, NOW - dt.timedelta(hours=1), 12) == ["d1"]
        assert repo.claim("d1", "run1", NOW, NOW + dt.timedelta(minutes=10))
    with database.transaction() as s:
        repo = CleverDistrictRepository(s)
        assert not repo.claim("d1", "run2", NOW + dt.timedelta(minutes=1), NOW + dt.timedelta(minutes=11))
        assert repo.due(NOW + dt.timedelta(minutes=1), NOW, 12) == []
        assert repo.claim("d1", "run3", NOW + dt.timedelta(minutes=11), NOW + dt.timedelta(minutes=21))


def test_due_skips_districts_backing_off_or_past_the_failure_cap(database: Database) -> None:
    _district(database)
    old = NOW - dt.timedelta(hours=2)
    with database.transaction() as s:
        row = CleverDistrictRepository(s).get("d1")
        assert row is not None
        row.synced_at, row.sync_failures, row.sync_retry_at = old, 3, NOW + dt.timedelta(minutes=5)
    with database.transaction() as s:
        repo = CleverDistrictRepository(s)
        assert repo.due(NOW, NOW - dt.timedelta(hours=1), 12) == []
        assert repo.due(NOW + dt.timedelta(minutes=5), NOW - dt.timedelta(hours=1), 12) == ["d1"]
        assert repo.due(NOW + dt.timedelta(minutes=5), NOW - dt.timedelta(hours=1), 3) == []  # at the cap
        row = repo.get("d1")
        assert row is not None
        row.sync_requested_at = NOW  # asked for: runs whatever the backoff says
    with database.transaction() as s:
        assert CleverDistrictRepository(s).due(NOW, NOW - dt.timedelta(hours=1), 3) == ["d1"]


def test_a_code_keeps_its_state_and_a_pending_one_can_be_failed_once(database: Database) -> None:
    with database.transaction() as s:
        repo = CleverLoginRepository(s)
        assert repo.claim_code("p" * 64, NOW, NOW + dt.timedelta(minutes=15), state_hash="s" * 64)
    with database.transaction() as s:
        repo = CleverLoginRepository(s)
        assert repo.fail_pending_code("p" * 64, "CLEVER_LOGIN_INTERRUPTED")
        assert not repo.fail_pending_code("p" * 64, "CLEVER_LOGIN_INTERRUPTED")
        row = repo.code("p" * 64)
        assert row is not None and (row.state_hash, row.status) == ("s" * 64, "failed")


def _user(roster: CleverRosterRepository, user_id: str, run_id: str | None, digest: str | None = None) -> None:
    values = {"district_id": "d1", "roles": ["student"], "school_ids": [], "profile_encrypted": "x",
              "email_digest": digest, "lms_synced": None, "updated_at": utcnow()}
    if run_id:
        values["seen_run_id"] = run_id
    roster.upsert(CleverRosterUserRow, user_id, values)


def test_archive_unseen_and_restore_on_sight(database: Database) -> None:
    _district(database)
    with database.transaction() as s:
        roster = CleverRosterRepository(s)
        _user(roster, "u1", "run1")
        _user(roster, "u2", "run1")
        roster.upsert(CleverSectionRow, "sec1", {"district_id": "d1", "name": "M", "seen_run_id": "run1",
                                                 "updated_at": utcnow()})
        roster.set_members("sec1", [("u1", "student"), ("u2", "student"), ("u1", "student")])
    with database.transaction() as s:
        roster = CleverRosterRepository(s)
        _user(roster, "u1", "run2")
        assert roster.archive_unseen(CleverRosterUserRow, "d1", "run2", NOW) == 1
        assert [r.id for r, _ in roster.section_users("sec1", None, None, 10, False)] == ["u1"]
        assert len(roster.section_users("sec1", None, None, 10, True)) == 2
    with database.transaction() as s:
        roster = CleverRosterRepository(s)
        _user(roster, "u2", None)  # an event brings it back
        assert roster.user("u2") is not None and roster.user("u2").archived_at is None  # type: ignore[union-attr]
        assert roster.counts("d1") == {"schools": 0, "users": 2, "sections": 1}


def test_matching_lookups_by_sis_id_and_email_digest(database: Database) -> None:
    _district(database)
    _district(database, "d2")
    with database.transaction() as s:
        roster = CleverRosterRepository(s)
        _user(roster, "u1", None, digest="e" * 64)
        roster.set_sis_ids("u1", "d1", {"student": "S-1", "teacher": "T-1"})
    with database.transaction() as s:
        roster = CleverRosterRepository(s)
        assert [r.id for r in roster.by_sis_id("d1", "S-1")] == ["u1"]
        assert [r.id for r in roster.by_sis_id("d1", "T-1")] == ["u1"]
        assert list(roster.by_sis_id("d2", "S-1")) == []
        assert [r.id for r in roster.by_email_digest("d1", "e" * 64)] == ["u1"]
        assert roster.sis_ids(["u1"]) == {"u1": {"student": "S-1", "teacher": "T-1"}}
