"""Assignments, grade state and course members in the store, and the whole Clever path, on both engines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from gateway.store import Database
from gateway.store.db import alembic_config
from gateway.store.models import Base
from gateway.store.models.base import new_id, utcnow
from gateway.store.models.core import UserRow
from gateway.store.models.lti import LtiContextRow, LtiDeploymentRow, LtiRegistrationRow
from gateway.store.models.writeback_assignments import WritebackAssignmentRow
from gateway.store.repositories.assignments import (
    AssignmentRepository,
    ContextMemberRepository,
    GradeStateRepository,
)
from tests.support.writeback_worlds import ags_world, clever_world

MY_TABLES = ("writeback_assignments", "writeback_grades", "lti_context_members")


def _assignment(context_id: str = "clever:s1", vendor_id: str | None = None, **values: Any) -> WritebackAssignmentRow:
    now = values.pop("created_at", utcnow())
    return WritebackAssignmentRow(
        id=new_id("asg"), context_id=context_id, backend="clever", clever_section_id="s1", clever_district_id="d1",
        vendor_id=vendor_id, title="T", points_possible=10.0, remote_state="pending", remote_detail={},
        created_at=now, updated_at=now, **values,
    )


def test_models_and_migration_agree(database: Database) -> None:
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diffs = [d for d in compare_metadata(context, Base.metadata) if any(t in repr(d) for t in MY_TABLES)]
    assert diffs == []


def test_downgrade_removes_the_tables_and_upgrade_brings_them_back(database: Database) -> None:
    cfg = alembic_config(database.url)
    with database.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0004_writeback")  # a merge point: step down to one of its parents
    assert not set(MY_TABLES) & set(inspect(database.engine).get_table_names())
    database.upgrade()
    assert set(MY_TABLES) <= set(inspect(database.engine).get_table_names())


def test_vendor_ids_are_unique_per_context_while_the_assignment_lives(database: Database) -> None:
    with database.transaction() as s:
        repo = AssignmentRepository(s)
        first = _assignment(vendor_id="v1")
        repo.add(first)
        repo.add(_assignment(context_id="clever:s2", vendor_id="v1"))  # another context may use it
        repo.add(_assignment(vendor_id=None))
        repo.add(_assignment(vendor_id=None))  # no vendor id: no constraint
        first_id = first.id
    with pytest.raises(IntegrityError), database.transaction() as s:
        AssignmentRepository(s).add(_assignment(vendor_id="v1"))
    with database.transaction() as s:
        row = AssignmentRepository(s).get(first_id)
        assert row is not None
        row.deleted_vendor_id, row.vendor_id = row.vendor_id, None
    with database.transaction() as s:
        AssignmentRepository(s).add(_assignment(vendor_id="v1"))
        found = AssignmentRepository(s).by_vendor_id("clever:s1", "v1")
        assert found is not None and found.id != first_id


def test_pages_follow_creation_order_and_remote_ids_are_recorded(database: Database) -> None:
    base = utcnow()
    with database.transaction() as s:
        repo = AssignmentRepository(s)
        rows = [_assignment(created_at=base + dt.timedelta(seconds=n % 3)) for n in range(7)]
        for row in rows:
            repo.add(row)
        expected = [r.id for r in sorted(rows, key=lambda r: (r.created_at, r.id))]
    seen: list[str] = []
    after: tuple[dt.datetime, str] | None = None
    with database.transaction() as s:
        while True:
            page = AssignmentRepository(s).page("clever:s1", after=after, limit=3, include_deleted=False)
            if not page:
                break
            seen += [r.id for r in page]
            after = (page[-1].created_at, page[-1].id)
        AssignmentRepository(s).record_remote(expected[0], remote_id="remote-1", remote_state="created",
                                              detail={"owned": True}, now=utcnow())
    assert seen == expected
    with database.transaction() as s:
        row = AssignmentRepository(s).get(expected[0])
        assert row is not None and (row.remote_id, row.remote_state, row.remote_detail) == (
            "remote-1", "created", {"owned": True})


def test_grade_state_keeps_the_newest_event(database: Database) -> None:
    early, late = utcnow() - dt.timedelta(hours=1), utcnow()
    with database.transaction() as s:
        row = _assignment()
        AssignmentRepository(s).add(row)
        asg = row.id
    for event_at, delivery in ((late, "dlv_2"), (early, "dlv_1"), (late, "dlv_3")):
        with database.transaction() as s:
            GradeStateRepository(s).delivered(asg, "student-a", event_at, delivery, utcnow())
    with database.transaction() as s:
        assert GradeStateRepository(s).newest_delivered(asg, "student-a") == late
        assert GradeStateRepository(s).newest_delivered(asg, "student-b") is None


def test_course_members_keep_their_latest_roles(database: Database) -> None:
    now = utcnow()
    with database.transaction() as s:
        s.add(LtiRegistrationRow(id="reg_1", name="R", issuer="https://lms.example", client_id="c", lms="other",
                                 auth_login_url="https://lms.example/a", auth_token_url="https://lms.example/t",
                                 jwks_url="https://lms.example/j", auto_activate_deployments=False, options={},
                                 status="active"))
        s.flush()
        s.add(LtiDeploymentRow(id="dep_1", registration_id="reg_1", deployment_id="d", status="active"))
        s.flush()
        s.add(LtiContextRow(id="ctx_1", registration_id="reg_1", deployment_ref="dep_1", context_id="course",
                            types=[], ags_scopes=[]))
        s.add_all([UserRow(id="usr_1"), UserRow(id="usr_2")])
        s.flush()
        members = ContextMemberRepository(s)
        members.record("ctx_1", "usr_1", ["Learner"], True, now)
        members.record("ctx_1", "usr_2", ["Instructor"], False, now)
    with database.transaction() as s:
        ContextMemberRepository(s).record("ctx_1", "usr_1", ["Instructor"], False, now + dt.timedelta(minutes=1))
    with database.transaction() as s:
        found = ContextMemberRepository(s).many("ctx_1", ["usr_1", "usr_2", "usr_3"])
        assert {k: (v.roles, v.learner) for k, v in found.items()} == {
            "usr_1": (["Instructor"], False), "usr_2": (["Instructor"], False)}
        assert found["usr_1"].first_launch_at < found["usr_1"].last_launch_at


def test_assignments_and_grades_reach_clever_on_each_engine(database_url: str, keys_dir: Path) -> None:
    with clever_world(database_url, keys_dir) as world:
        made = world.create(vendor_id="both-engines")
        kid = world.seeded.students[0]
        batch = world.api.ok("POST", f"/api/v1/contexts/{world.context_id}/assignments/ext:both-engines/grades",
                             json={"grades": [{"user_id": k, "score_given": 5, "score_maximum": 10}
                                              for k in world.seeded.students]})
        later = world.grade("ext:both-engines", kid, score_given=9, score_maximum=10)
        ids = [made["delivery"]["id"], *(i["delivery_id"] for i in batch["items"]), later["delivery"]["id"]]
        assert [d["state"] for d in world.api.settle(*ids)] == ["delivered"] * 5
        points = [(path.rsplit("/", 1)[-1], body["grade_points"]) for path, body in world.writes()]
        assert sorted(points) == sorted([(k, 10.0) for k in world.seeded.students] + [(kid, 18.0)])
        assert points.index((kid, 10.0)) < points.index((kid, 18.0))  # one student's grades in order


def test_assignments_and_grades_reach_the_lms_on_each_engine(database_url: str, keys_dir: Path) -> None:
    with ags_world(database_url, keys_dir) as world:
        made = world.create(vendor_id="engines")
        batch = world.api.ok("POST", f"/api/v1/contexts/{world.context_id}/assignments/ext:engines/grades",
                             json={"grades": [{"user_id": u, "score_given": 5, "score_maximum": 10}
                                              for u in world.students]})
        changed = world.api.ok("PATCH", f"/api/v1/contexts/{world.context_id}/assignments/ext:engines",
                               json={"points_possible": 20})
        ids = [made["delivery"]["id"], *(i["delivery_id"] for i in batch["items"]), changed["delivery"]["id"]]
        assert [d["state"] for d in world.api.settle(*ids)] == ["delivered"] * 4
        assert sorted((s["userId"], s["scoreGiven"]) for s in world.scores()) == [("student-1", 5), ("student-2", 5)]
        [item] = world.lti.platform.line_items.values()
        assert item["scoreMaximum"] == 20
