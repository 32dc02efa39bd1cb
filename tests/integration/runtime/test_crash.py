"""Workers die, restart and stop, as real processes; nothing is lost and nothing is sent twice at once."""

from __future__ import annotations

import collections
import signal
from pathlib import Path

import requests

from tests.support.databases import DatabaseFactory
from tests.support.flaky_remote import HANG, OK, FlakyRemote, slow
from tests.support.live import reserve_port
from tests.support.outbox import enqueue, make_services, row, settle
from tests.support.processes import kill_hard, process_env, spawned
from tests.support.waiting import wait_until

GRADE = {"score_given": 7, "score_maximum": 10, "comment": "Resubmit the lab report."}


def test_sigkill_mid_delivery_on_postgresql_loses_nothing(
    db_factory: DatabaseFactory, keys_dir: Path, remote: FlakyRemote, tmp_path: Path
) -> None:
    url = db_factory.postgres_url()
    services = make_services(url, keys_dir, remote)
    # The first worker never hears back (it would wait 30 s); the next attempt is answered.
    env = process_env(url, keys_dir, writeback_lease_seconds=1.0, http_timeout_seconds=30)
    remote.script("k", HANG, OK)
    try:
        delivery_id = enqueue(services, case="k", **GRADE)
        with spawned("worker", remote, env, tmp_path / "first.log") as first:
            wait_until(lambda: remote.arrived(delivery_id), what="the first worker to send")
            kill_hard(first)
        orphan = row(services, delivery_id)
        assert (orphan.state, orphan.attempts, orphan.delivered_at) == ("delivering", 1, None)

        with spawned("worker", remote, env, tmp_path / "second.log") as second:
            settle(services, delivery_id)
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=30) == 0
        done = row(services, delivery_id)
        assert (done.state, done.attempts) == ("delivered", 2)
        assert remote.accepted_ids() == [delivery_id]
        assert remote.accepted[0].payload == {"case": "k", **GRADE}
    finally:
        services.close()


def test_two_workers_on_postgresql_never_deliver_a_row_twice_or_at_once(
    db_factory: DatabaseFactory, keys_dir: Path, remote: FlakyRemote, tmp_path: Path
) -> None:
    url = db_factory.postgres_url()
    services = make_services(url, keys_dir, remote)
    remote.default = slow(0.03)  # long enough for both workers to have deliveries in flight together
    env = process_env(url, keys_dir)
    try:
        ids = [enqueue(services, key=f"assignment:a:user:{i % 8}", case=f"r{i}") for i in range(32)]
        with (
            spawned("worker", remote, env, tmp_path / "a.log", "--concurrency", "3") as a,
            spawned("worker", remote, env, tmp_path / "b.log", "--concurrency", "3") as b,
        ):
            settle(services, *ids)
            for proc in (a, b):
                proc.send_signal(signal.SIGTERM)
            assert (a.wait(timeout=30), b.wait(timeout=30)) == (0, 0)
        counts = collections.Counter(remote.accepted_ids())
        assert set(counts) == set(ids) and set(counts.values()) == {1}
        assert {row(services, i).state for i in ids} == {"delivered"}
        assert not remote.overlaps
        for user in range(8):
            same_key = [i for n, i in enumerate(ids) if n % 8 == user]
            assert [i for i in remote.accepted_ids() if i in same_key] == same_key
    finally:
        services.close()


def test_sigterm_finishes_the_delivery_in_flight_then_exits_0(
    database_url: str, keys_dir: Path, remote: FlakyRemote, tmp_path: Path
) -> None:
    services = make_services(database_url, keys_dir, remote)
    remote.script("s", slow(1.0))
    try:
        first = enqueue(services, key="K", case="s")
        second = enqueue(services, key="K", case="s2")  # waits behind the first
        env = process_env(database_url, keys_dir, http_timeout_seconds=5)
        with spawned("worker", remote, env, tmp_path / "w.log") as worker:
            wait_until(lambda: remote.arrived(first), what="the delivery to start")
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=30) == 0
        assert row(services, first).state == "delivered"
        assert remote.accepted_ids() == [first]
        assert (row(services, second).state, row(services, second).attempts) == ("queued", 0)
    finally:
        services.close()


def test_a_gateway_restart_on_sqlite_delivers_what_was_queued_and_claimed(
    db_factory: DatabaseFactory, keys_dir: Path, remote: FlakyRemote, tmp_path: Path
) -> None:
    url = db_factory.sqlite_url()
    services = make_services(url, keys_dir, remote)
    services.keyring.generate()
    port = reserve_port()
    env = process_env(url, keys_dir, writeback_lease_seconds=1.0, http_timeout_seconds=30)
    remote.script("a", HANG, OK)
    try:
        claimed = enqueue(services, case="a", **GRADE)
        with spawned("serve", remote, env, tmp_path / "serve1.log", "--port", str(port)) as first:
            wait_until(lambda: remote.arrived(claimed), what="the in-process worker to send")
            kill_hard(first)
        # Accepted while the gateway was down.
        queued = [enqueue(services, case=f"q{i}", **GRADE) for i in range(3)]

        with spawned("serve", remote, env, tmp_path / "serve2.log", "--port", str(port)) as second:
            settle(services, claimed, *queued)
            assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=30) == 0
        assert sorted(remote.accepted_ids()) == sorted([claimed, *queued])
        assert (row(services, claimed).state, row(services, claimed).attempts) == ("delivered", 2)
        assert {row(services, i).state for i in queued} == {"delivered"}
    finally:
        services.close()
