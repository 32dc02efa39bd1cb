"""The one outbound rule (gateway.retry): what an answer means for a retry, and the wait the remote asked for."""

from __future__ import annotations

import datetime as dt
import email.utils

import pytest

from gateway.retry import NO_ANSWER, Decision, backoff_bound, decide, parse_rate_limit_reset, parse_retry_after

NOW = dt.datetime(2026, 11, 29, 12, 0, 0, tzinfo=dt.UTC)
T = NOW.timestamp()


def _date(seconds: float) -> str:
    return email.utils.format_datetime(NOW + dt.timedelta(seconds=seconds), usegmt=True)


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (200, {}, Decision("success")),
        (204, {"Retry-After": "5"}, Decision("success")),
        (302, {}, Decision("final")),
        (400, {}, Decision("final")),
        (401, {}, Decision("final")),
        (403, {}, Decision("final")),
        (403, {"X-Rate-Limit-Remaining": "12"}, Decision("final")),
        (403, {"X-Rate-Limit-Remaining": "x"}, Decision("final")),
        (403, {"X-Rate-Limit-Remaining": "0"}, Decision("throttled")),  # Canvas
        (403, {"x-rate-limit-remaining": "0.0", "Retry-After": "7"}, Decision("throttled", 7.0)),
        (403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(T) + 30)}, Decision("throttled", 30.0)),
        (404, {"Retry-After": "5"}, Decision("final")),
        (408, {}, Decision("transient")),
        (409, {}, Decision("final")),
        (422, {}, Decision("final")),
        (429, {}, Decision("throttled")),
        (429, {"X-RateLimit-Reset": str(int(T) + 42)}, Decision("throttled", 42.0)),  # Clever: epoch seconds
        (429, {"X-RateLimit-Reset": str(int(T) - 5)}, Decision("throttled", 0.0)),
        (429, {"X-RateLimit-Reset": "30"}, Decision("throttled", 30.0)),  # seconds from now
        (429, {"X-RateLimit-Reset": "nan"}, Decision("throttled")),
        (429, {"Retry-After": "120"}, Decision("throttled", 120.0)),
        (429, {"Retry-After": _date(90)}, Decision("throttled", 90.0)),
        (429, {"Retry-After": _date(-90)}, Decision("throttled", 0.0)),
        (429, {"Retry-After": "soon"}, Decision("throttled")),
        (429, {"Retry-After": "5", "X-RateLimit-Reset": str(int(T) + 20)}, Decision("throttled", 20.0)),
        (500, {}, Decision("transient")),
        (501, {}, Decision("transient")),
        (502, {}, Decision("transient")),
        (503, {"Retry-After": "9"}, Decision("transient", 9.0)),
        (504, {}, Decision("transient")),
        (599, {}, Decision("transient")),
    ],
)
def test_the_rule(status: int, headers: dict[str, str], expected: Decision) -> None:
    assert decide(status, headers, T) == expected


def test_no_answer_is_transient() -> None:
    assert NO_ANSWER.retryable and NO_ANSWER.verdict == "transient"


@pytest.mark.parametrize(("value", "seconds"), [("0", 0.0), ("-5", None), ("", None), ("\u00b2", None)])
def test_retry_after_edges(value: str, seconds: float | None) -> None:
    assert parse_retry_after(value, T) == seconds


@pytest.mark.parametrize(("value", "seconds"), [("tomorrow", None), ("-1", None)])
def test_rate_limit_reset_edges(value: str, seconds: float | None) -> None:
    assert parse_rate_limit_reset(value, T) == seconds


@pytest.mark.parametrize(("attempt", "bound"), [(0, 2.0), (1, 2.0), (2, 4.0), (6, 60.0), (10_000, 60.0)])
def test_the_backoff_bound_doubles_up_to_the_cap(attempt: int, bound: float) -> None:
    assert backoff_bound(attempt, 2.0, 60.0) == bound
