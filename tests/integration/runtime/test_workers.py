"""Several workers together: periodic jobs run once per interval, never twice at once; SQLite keeps one worker."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
from pathlib import Path

from gateway.bootstrap import Services
from gateway.runtime import PeriodicJob
from gateway.store.models.base import utcnow
from gateway.store.repositories.outbox_jobs import JobLeaseRepository
from tests.support.databases import DatabaseFactory
from tests.support.flaky_remote import FlakyRemote
from tests.support.outbox import enqueue, make_services, running, settle
from tests.support.waiting import wait_until


class Recorder:
    """A periodic job that notes each run and whether two ever overlapped."""

    def __init__(self, seconds: float = 0.05, leases: tuple[Services, str] | None = None) -> None:
        self.seconds = seconds
        self.leases = leases  # where to read the lease each run took: (services, job name)
        self.lease_starts: list[dt.datetime] = []
        self.runs: list[tuple[float, float]] = []
        self.active = 0
        self.overlapped = False
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            self.active += 1
            self.overlapped |= self.active > 1
        started = time.monotonic()
        if self.leases is not None:
            services, name = self.leases
            with services.db.transaction() as s:
                lease = JobLeaseRepository(s).get(name)
                assert lease is not None and lease.last_started_at is not None
                with self._lock:
                    self.lease_starts.append(lease.last_started_at)
        time.sleep(self.seconds)
        with self._lock:
            self.active -= 1
            self.runs.append((started, time.monotonic()))


def test_periodic_jobs_run_on_one_worker_at_a_time_across_processes_worth_of_workers(
    db_factory: DatabaseFactory, keys_dir: Path, remote: FlakyRemote
) -> None:
    url = db_factory.postgres_url()
    replicas = [make_services(url, keys_dir, remote) for _ in range(3)]
    job = Recorder(seconds=0.1, leases=(replicas[0], "test.recorder"))
    for services in replicas:
        services.periodic_jobs.append(PeriodicJob("test.recorder", 0.3, job))
    try:
        with running(replicas[0]), running(replicas[1]), running(replicas[2]):
            wait_until(lambda: len(job.runs) >= 3, what="three runs of the job")
        assert not job.overlapped
        # Once per interval in total, whichever worker runs it: three workers each running it on their own would put
        # three starts in one interval. Checked on the start each run's lease recorded (the time the compare-and-set
        # compared), not on when its thread got going: a busy machine delays a thread, never the rule, so every pair
        # of runs is an interval apart exactly, however loaded the machine.
        starts = job.lease_starts
        assert len(starts) >= 3 and starts == sorted(starts)
        gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
        assert all(gap >= dt.timedelta(seconds=0.3) for gap in gaps), gaps
    finally:
        for services in replicas:
            services.close()


def test_a_failing_job_is_recorded_and_the_worker_keeps_delivering(
    wb: Services, remote: FlakyRemote
) -> None:
    def broken() -> None:
        raise RuntimeError("sync failed")

    wb.periodic_jobs.append(PeriodicJob("test.broken", 3600, broken))
    with running(wb):
        def recorded() -> bool:
            with wb.db.transaction() as s:
                lease = JobLeaseRepository(s).get("test.broken")
                return lease is not None and lease.last_error == "RuntimeError"

        wait_until(recorded, what="the failure to be recorded")
        delivery_id = enqueue(wb, case="after")
        settle(wb, delivery_id)
    assert remote.accepted_ids() == [delivery_id]


def test_a_job_held_by_a_dead_worker_runs_again_after_its_lease(wb: Services) -> None:
    job = Recorder(seconds=0.0)
    now = utcnow()
    expires = now + dt.timedelta(seconds=1)
    with wb.db.transaction() as s:
        repo = JobLeaseRepository(s)
        repo.ensure("test.orphan")
        assert repo.acquire("test.orphan", owner="dead-worker", now=now - dt.timedelta(hours=2),
                            lease_until=expires, interval=dt.timedelta(seconds=0))
    wb.periodic_jobs.append(PeriodicJob("test.orphan", 0.1, job))
    with running(wb):
        wait_until(lambda: len(job.runs) >= 1, what="the orphaned job to run")
    with wb.db.transaction() as s:
        lease = JobLeaseRepository(s).get("test.orphan")
        assert lease is not None and lease.last_started_at is not None
        assert lease.last_started_at >= expires  # not before the dead worker's lease ran out


def test_sqlite_runs_one_worker_and_a_waiting_one_takes_over(
    db_factory: DatabaseFactory, keys_dir: Path, remote: FlakyRemote
) -> None:
    url = db_factory.sqlite_url()
    first, second = make_services(url, keys_dir, remote), make_services(url, keys_dir, remote)
    try:
        with running(first) as active:
            wait_until(lambda: active.active, what="the first worker to hold the SQLite worker lock")
            with running(second) as waiting:
                ids = [enqueue(first, case=f"a{i}") for i in range(5)]
                settle(first, *ids)
                assert not waiting.active  # it waits for the lock and never claims
        with running(second) as takeover:
            later = enqueue(second, case="later")
            settle(second, later)
            assert takeover.active
        assert sorted(remote.accepted_ids()) == sorted([*ids, later])
    finally:
        first.close()
        second.close()
