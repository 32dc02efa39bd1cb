"""Leases of periodic jobs: one row per job name, so that many workers run each job once per interval."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from gateway.store.models.writeback import JobLeaseRow


class JobLeaseRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def ensure(self, name: str) -> None:
        """Create the job's row if missing; a concurrent creator is not an error."""
        dialect = self._s.get_bind().dialect.name
        insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self._s.execute(insert(JobLeaseRow).values(name=name).on_conflict_do_nothing(index_elements=["name"]))

    def acquire(
        self, name: str, *, owner: str, now: dt.datetime, lease_until: dt.datetime, interval: dt.timedelta
    ) -> bool:
        """Take the job when nobody holds a live lease and its last start is an interval old."""
        result: Any = self._s.execute(
            update(JobLeaseRow)
            .where(
                JobLeaseRow.name == name,
                or_(JobLeaseRow.lease_expires_at.is_(None), JobLeaseRow.lease_expires_at <= now),
                or_(JobLeaseRow.last_started_at.is_(None), JobLeaseRow.last_started_at <= now - interval),
            )
            .values(owner=owner, lease_expires_at=lease_until, last_started_at=now)
        )
        return int(result.rowcount) == 1

    def renew(self, name: str, *, owner: str, lease_until: dt.datetime) -> None:
        self._s.execute(
            update(JobLeaseRow)
            .where(and_(JobLeaseRow.name == name, JobLeaseRow.owner == owner))
            .values(lease_expires_at=lease_until)
        )

    def release(self, name: str, *, owner: str, now: dt.datetime, error: str | None) -> None:
        self._s.execute(
            update(JobLeaseRow)
            .where(JobLeaseRow.name == name, JobLeaseRow.owner == owner)
            .values(owner=None, lease_expires_at=None, last_finished_at=now, last_error=error)
        )

    def get(self, name: str) -> JobLeaseRow | None:
        return self._s.scalars(select(JobLeaseRow).where(JobLeaseRow.name == name)).first()
