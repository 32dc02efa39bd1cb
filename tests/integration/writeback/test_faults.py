"""Each way a remote can fail gives the right row state, on SQLite and PostgreSQL.

Real worker threads, real HTTP to a flaky remote on loopback, the gateway's own
classification. "Arrives" means the remote answered 2xx to it; every grade that should
arrive arrives exactly once and exactly as sent.
"""

from __future__ import annotations

import email.utils
import time
from pathlib import Path

import pytest

from gateway.bootstrap import Services
from gateway.store.models.base import utcnow
from tests.support.flaky_remote import HANG, OK, Answer, FlakyRemote, status
from tests.support.http_backend import HttpTestBackend
from tests.support.live import reserve_port
from tests.support.outbox import enqueue, make_services, row, running, settle

GRADE = {"score_given": 8.5, "score_maximum": 10, "comment": "Well argued; cite the second source."}


def _http_date(seconds_from_now: float) -> str:
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


RETRYABLE = {
    "500": lambda: status(500),
    "502": lambda: status(502),
    "503": lambda: status(503),
    "408": lambda: status(408),
    "429": lambda: status(429),
    "hang-past-timeout": lambda: HANG,
}


@pytest.mark.parametrize("failure", sorted(RETRYABLE))
def test_retryable_answers_retry_then_arrive_exactly_as_sent(
    wb: Services, remote: FlakyRemote, failure: str
) -> None:
    remote.script("r", RETRYABLE[failure](), RETRYABLE[failure](), OK)
    delivery_id = enqueue(wb, case="r", **GRADE)
    with running(wb):
        settle(wb, delivery_id)
    done = row(wb, delivery_id)
    assert (done.state, done.attempts, done.last_status) == ("delivered", 3, 200)
    assert remote.accepted_ids() == [delivery_id]
    assert remote.accepted[0].payload == {"case": "r", **GRADE}
    assert [a.attempt for a in remote.arrivals_of(delivery_id)] == [1, 2, 3]


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda: status(503, Retry_After="1"), 1.0),
        # Dates and epochs are computed as the remote answers; whole seconds, so +2 s means at least 1 s.
        (lambda: Answer(status=503, late_headers=lambda: {"Retry-After": _http_date(2)}), 1.0),
        (lambda: Answer(status=429, late_headers=lambda: {"X-RateLimit-Reset": str(int(time.time()) + 2)}), 1.0),
    ],
    ids=["retry-after-seconds", "retry-after-http-date", "x-ratelimit-reset-epoch"],
)
def test_the_remote_wait_hint_is_honoured(
    wb: Services, remote: FlakyRemote, answer: object, hint: float
) -> None:
    assert callable(answer)
    remote.script("w", answer(), OK)
    delivery_id = enqueue(wb, case="w", **GRADE)
    with running(wb):
        settle(wb, delivery_id)
        first, second = remote.arrivals_of(delivery_id)
    # The backoff alone would come back within 0.1 s; the remote asked for at least `hint` seconds.
    assert second.at - first.at >= hint - 0.05
    assert row(wb, delivery_id).state == "delivered"


@pytest.mark.parametrize("code", [400, 403, 404, 409, 422])
def test_permanent_refusals_fail_at_once_keeping_the_remote_answer(
    wb: Services, remote: FlakyRemote, code: int
) -> None:
    remote.script("p", status(code, body=f'{{"message": "refused with {code}"}}', X_RateLimit_Remaining="1000"))
    delivery_id = enqueue(wb, case="p", **GRADE)
    with running(wb):
        settle(wb, delivery_id)
    document = wb.outbox.get(delivery_id, scope=None)
    assert (document["state"], document["attempts"]) == ("failed", 1)
    assert document["remote"] == {
        "status": code,
        "body": f'{{"message": "refused with {code}"}}',
        "headers": {"X-RateLimit-Remaining": "1000"},
    }
    assert document["detail"] == f"remote answered {code}"
    assert len(remote.arrivals_of(delivery_id)) == 1


def test_canvas_style_throttling_403_is_retried(wb: Services, remote: FlakyRemote) -> None:
    remote.script("t", status(403, body="403 Forbidden (Rate Limit Exceeded)", X_Rate_Limit_Remaining="0"), OK)
    delivery_id = enqueue(wb, case="t")
    with running(wb):
        settle(wb, delivery_id)
    assert (row(wb, delivery_id).state, row(wb, delivery_id).attempts) == ("delivered", 2)


def test_out_of_attempts_is_dead_and_a_replay_brings_it_home(wb: Services, remote: FlakyRemote) -> None:
    remote.script("d", status(500))
    delivery_id = enqueue(wb, case="d", **GRADE)
    with running(wb):
        settle(wb, delivery_id)
        dead = wb.outbox.get(delivery_id, scope=None)
        assert (dead["state"], dead["attempts"]) == ("dead", 4)
        assert dead["detail"] == "remote answered 500; out of attempts (4)"
        assert dead["remote"]["status"] == 500
        assert remote.accepted_ids() == []

        remote.script("d", OK)
        with wb.db.transaction() as s:
            report = wb.outbox.replay(s, [delivery_id], scope=None, actor="test")
        assert report["replayed"] == [delivery_id]
        settle(wb, delivery_id)
    done = row(wb, delivery_id)
    assert (done.state, done.attempts) == ("delivered", 1)
    assert remote.accepted_ids() == [delivery_id]
    assert remote.accepted[0].payload == {"case": "d", **GRADE}


def test_a_refused_connection_retries_until_dead(database_url: str, keys_dir: Path, remote: FlakyRemote) -> None:
    services = make_services(database_url, keys_dir, remote)
    # A port nobody listens on: every attempt is refused before any answer.
    services.delivery_backends["test"] = HttpTestBackend(services.http, f"http://127.0.0.1:{reserve_port()}")
    try:
        delivery_id = enqueue(services, case="c")
        with running(services):
            settle(services, delivery_id)
        document = services.outbox.get(delivery_id, scope=None)
    finally:
        services.close()
    assert (document["state"], document["attempts"]) == ("dead", 4)
    assert document["remote"] is None
    assert document["detail"] == "no answer from test-remote: connection; out of attempts (4)"
    assert not remote.arrivals


def test_a_grade_older_than_one_delivered_is_skipped_not_sent(wb: Services, remote: FlakyRemote) -> None:
    key = "assignment:a1:user:u1"
    newer = enqueue(wb, case="n", key=key, event_at=utcnow(), score_given=9)
    with running(wb):
        settle(wb, newer)
        older = enqueue(wb, case="o", key=key, event_at=utcnow().replace(year=2020), score_given=3)
        settle(wb, older)
    skipped = wb.outbox.get(older, scope=None)
    assert skipped["state"] == "delivered"
    assert skipped["detail"].startswith("skipped: a newer grade")
    assert remote.accepted_ids() == [newer]


def test_a_backend_that_raises_is_retried_not_lost(wb: Services, remote: FlakyRemote) -> None:
    class Exploding:
        calls = 0

        def deliver(self, delivery: object) -> object:
            Exploding.calls += 1
            raise RuntimeError("bug in a backend")

    wb.delivery_backends["boom"] = Exploding()  # type: ignore[assignment]
    delivery_id = enqueue(wb, case="b", backend="boom")
    with running(wb):
        settle(wb, delivery_id)
    document = wb.outbox.get(delivery_id, scope=None)
    assert (document["state"], document["attempts"], Exploding.calls) == ("dead", 4, 4)
    assert document["detail"].startswith("the boom backend raised RuntimeError")
