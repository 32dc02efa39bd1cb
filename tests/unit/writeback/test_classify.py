"""How every backend reads an HTTP outcome: delivered, retry (with the remote's wait), or failed for good.

The rule itself (statuses, hints) is :mod:`gateway.retry`'s, tested in ``tests/unit/retry/test_retry_rule.py``;
these tests pin how a decision becomes a delivery result."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.http import OutboundError
from gateway.writeback.classify import classify_outbound_error, classify_status

NOW = dt.datetime(2026, 11, 29, 12, 0, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_2xx_is_delivered(status: int) -> None:
    result = classify_status(status, {}, '{"resultUrl": "x"}', NOW)
    assert (result.outcome, result.status, result.body) == ("delivered", status, '{"resultUrl": "x"}')


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504, 599])
def test_408_429_and_5xx_retry(status: int) -> None:
    result = classify_status(status, {}, "busy", NOW)
    assert (result.outcome, result.error) == ("retry", f"remote answered {status}")


@pytest.mark.parametrize("status", [300, 304, 400, 401, 403, 404, 409, 410, 412, 413, 422])
def test_other_answers_fail_at_once(status: int) -> None:
    result = classify_status(status, {}, "no", NOW)
    assert (result.outcome, result.status, result.body) == ("failed", status, "no")


@pytest.mark.parametrize(
    ("remaining", "outcome"), [("0", "retry"), ("0.0", "retry"), ("12", "failed"), ("x", "failed")]
)
def test_a_403_retries_only_when_the_rate_limit_is_spent(remaining: str, outcome: str) -> None:
    assert classify_status(403, {"X-Rate-Limit-Remaining": remaining}, "", NOW).outcome == outcome


def test_only_retry_headers_are_kept_and_bodies_are_truncated() -> None:
    result = classify_status(503, {"retry-after": "7", "Set-Cookie": "s=1", "X-RateLimit-Reset": "3"}, "e" * 9000, NOW)
    assert result.headers == {"Retry-After": "7", "X-RateLimit-Reset": "3"}
    assert result.body is not None and len(result.body) == 4000
    assert result.retry_after == 7


def test_the_wait_hint_travels_with_a_retry() -> None:
    reset = str(int(NOW.timestamp()) + 20)
    assert classify_status(429, {"Retry-After": "5", "X-RateLimit-Reset": reset}, None, NOW).retry_after == 20


@pytest.mark.parametrize("reason", ["timeout", "connection", "request"])
def test_no_answer_always_retries(reason: str) -> None:
    result = classify_outbound_error(OutboundError("ags", reason, "POST x failed"))
    assert (result.outcome, result.status, result.error) == ("retry", None, f"no answer from ags: {reason}")
