"""What an operator sees: Prometheus metrics on /metrics, and the `gateway worker` / `gateway deliveries` commands."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from gateway.store.repositories.audit import AuditRepository
from tests.support.databases import DatabaseFactory
from tests.support.flaky_remote import OK, FlakyRemote, status
from tests.support.gateway import GatewayUnderTest
from tests.support.live import reserve_port
from tests.support.outbox import enqueue, force, make_services, row, running, settle
from tests.support.processes import REPO, process_env
from tests.support.waiting import wait_until


def _samples(gw: GatewayUnderTest) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = requests.get(f"{gw.url}/metrics", timeout=5).text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_show_depth_outcomes_latency_and_attempts(wb_gateway: GatewayUnderTest, remote: FlakyRemote) -> None:
    gw = wb_gateway
    remote.script("retry", status(503), OK)
    remote.script("refused", status(404))
    ok, retried, refused = (enqueue(gw.services, case=c) for c in ("ok", "retry", "refused"))
    waiting = enqueue(gw.services, case="later", backend="elsewhere")  # no such backend on this worker
    with running(gw.services):
        settle(gw.services, ok, retried, refused)
    samples = _samples(gw)

    def value(name: str, **labels: str) -> float:
        return samples.get((name, frozenset(labels.items())), 0.0)

    assert ("gateway_outbox_rows", frozenset({("state", "delivered"), ("backend", "test")})) not in samples
    assert value("gateway_outbox_rows", state="failed", backend="test") == 1
    assert value("gateway_outbox_rows", state="queued", backend="elsewhere") == 1
    assert value("gateway_outbox_oldest_age_seconds", state="queued") > 0
    outcome = "gateway_deliveries_total"
    assert value(outcome, backend="test", kind="grade", outcome="delivered", status="200") == 2
    assert value(outcome, backend="test", kind="grade", outcome="retry", status="503") == 1
    assert value(outcome, backend="test", kind="grade", outcome="failed", status="404") == 1
    assert value("gateway_delivery_latency_seconds_count", backend="test", kind="grade") == 2
    assert value("gateway_delivery_attempts_sum", backend="test", state="delivered") == 3
    assert value("gateway_delivery_attempt_seconds_count", backend="test") == 4
    assert row(gw.services, waiting).state == "queued"


def _gateway(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=60, check=False)


def test_operator_lists_inspects_and_replays_dead_letters(sqlite_url: str, keys_dir: Path, remote: FlakyRemote) -> None:
    # One engine: the commands call the same outbox service the API tests run on both.
    database_url = sqlite_url
    services = make_services(database_url, keys_dir, remote)
    try:
        dead = enqueue(services, case="d")
        force(services, dead, state="dead", attempts=4, detail="remote answered 500; out of attempts (4)")
        enqueue(services, case="fine")
        env = process_env(database_url, keys_dir)

        listed = _gateway(env, "deliveries", "list", "--state", "dead", "--json")
        assert listed.returncode == 0, listed.stderr
        assert [d["id"] for d in json.loads(listed.stdout)] == [dead]
        shown = _gateway(env, "deliveries", "show", dead)
        assert json.loads(shown.stdout)["detail"] == "remote answered 500; out of attempts (4)"

        replayed = _gateway(env, "deliveries", "replay", "--state", "dead")
        assert replayed.returncode == 0, replayed.stderr
        assert json.loads(replayed.stdout)["replayed"] == [dead]
        assert (row(services, dead).state, row(services, dead).attempts) == ("queued", 0)
        with services.db.transaction() as s:
            assert [e.actor for e in AuditRepository(s).list(action="delivery.replay")] == ["cli"]
    finally:
        services.close()


def test_gateway_worker_runs_and_stops_on_sigterm(db_factory: DatabaseFactory, keys_dir: Path, tmp_path: Path) -> None:
    env = process_env(db_factory.sqlite_url(), keys_dir, log_level="INFO")
    log = tmp_path / "worker.log"
    port = reserve_port()
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "worker", "--concurrency", "2", "--metrics-port", str(port)],
            cwd=REPO, env=env, stdout=sink, stderr=sink,
        )
    try:
        wait_until(lambda: "worker started" in log.read_text() or proc.poll() is not None, what="the worker")
        assert "worker started" in log.read_text(), log.read_text()
        scraped = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert 'gateway_outbox_rows{backend="",state="dead"} 0.0' in scraped
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert "no delivery backends are configured" not in log.read_text()  # ags and clever are registered


def test_gateway_worker_refuses_an_unmigrated_database(db_factory: DatabaseFactory, keys_dir: Path) -> None:
    result = _gateway(process_env(db_factory.empty_url("sqlite"), keys_dir), "worker")
    assert result.returncode == 1
    assert "gateway db upgrade" in result.stderr
