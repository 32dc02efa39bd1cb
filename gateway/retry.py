"""The one rule for what an outbound HTTP answer means for a retry, and how long the remote asked us to wait.

Every client that retries (the writeback outbox, the Clever transport) reads answers through :func:`decide`,
so an LMS or Clever answer means the same thing wherever it arrives. The rule:

- **2xx**: ``success``.
- **429**, and **403 with a spent rate limit** (``X-Rate-Limit-Remaining: 0`` as Canvas throttles, or
  ``X-RateLimit-Remaining: 0``): ``throttled``. The remote refused the request without acting on it, so any
  method may be sent again once the wait is over.
- **408** and **any 5xx**: ``transient``. The remote may have acted, so a caller resends only what is safe to
  send twice (idempotent methods, or a delivery the outbox deduplicates). A 5xx that never heals runs out of
  attempts like any other and is kept for an operator.
- **No answer** (timeout, refused or reset connection, TLS): ``transient``, see :data:`NO_ANSWER`.
- **Anything else** (3xx, other 4xx): ``final``: the answer stands and is not sent again.

The wait hint is the longest of ``Retry-After`` (delta-seconds or an HTTP date, RFC 9110 §10.2.3) and
``X-RateLimit-Reset`` (Unix epoch seconds, as Clever documents it; a value below 10^9 is read
as seconds from now, as some APIs send). It applies to every retryable answer (a 503 with ``Retry-After`` is
the RFC's own example). The hint is a floor: a caller never comes back sooner, and a caller that cannot wait
that long stops and reports the hint instead. What stays with each caller: how many attempts, the backoff
base and cap, how long it is willing to wait, and what to assume when a throttled answer carries no hint.

Nothing here imports a feature: it sits at the outbound-client layer beside :mod:`gateway.http`.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Verdict = Literal["success", "throttled", "transient", "final"]

# Headers worth keeping with a remote answer: they explain a retry's timing.
RETRY_HEADERS = (
    "Retry-After",
    "X-RateLimit-Reset",
    "X-RateLimit-Remaining",
    "X-RateLimit-Limit",
    "X-Rate-Limit-Remaining",
)
# Canvas spells it X-Rate-Limit-Remaining; Clever and GitHub X-RateLimit-Remaining.
_REMAINING_HEADERS = ("X-Rate-Limit-Remaining", "X-RateLimit-Remaining")
# Epoch seconds are far larger than any sane "seconds from now".
EPOCH_THRESHOLD = 1_000_000_000


@dataclass(frozen=True)
class Decision:
    """What an answer means: its verdict and, for a retryable one, the wait the remote asked for (or None)."""

    verdict: Verdict
    wait: float | None = None

    @property
    def retryable(self) -> bool:
        return self.verdict in ("throttled", "transient")


NO_ANSWER = Decision("transient")


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value by case-insensitive name (plain dicts are case-sensitive, ``requests``' are not)."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def _now(now: float | None) -> float:
    return time.time() if now is None else now


def parse_retry_after(value: str, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (``now`` in Unix seconds), or None when it is malformed."""
    value = value.strip()
    if value.isascii() and value.isdigit():  # str.isdigit() also takes "\u00b2", which int() refuses
        return float(int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - _now(now))


def parse_rate_limit_reset(value: str, now: float | None = None) -> float | None:
    """Seconds to wait from an ``X-RateLimit-Reset`` value, or None when it is malformed."""
    try:
        reset = float(value.strip())
    except ValueError:
        return None
    if reset != reset or reset < 0:  # NaN or negative
        return None
    if reset >= EPOCH_THRESHOLD:
        return max(0.0, reset - _now(now))
    return reset


def wait_hint(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The longest wait the remote asked for, from any header it sent, or None."""
    hints: list[float] = []
    retry_after = header(headers, "Retry-After")
    if retry_after is not None and (seconds := parse_retry_after(retry_after, now)) is not None:
        hints.append(seconds)
    reset = header(headers, "X-RateLimit-Reset")
    if reset is not None and (seconds := parse_rate_limit_reset(reset, now)) is not None:
        hints.append(seconds)
    return max(hints) if hints else None


def throttled_403(headers: Mapping[str, str]) -> bool:
    """A 403 that says the rate limit is spent, not that we are forbidden."""
    for name in _REMAINING_HEADERS:
        remaining = header(headers, name)
        if remaining is None:
            continue
        try:
            if float(remaining) <= 0:
                return True
        except ValueError:
            continue
    return False


def verdict(status: int, headers: Mapping[str, str] | None = None) -> Verdict:
    if 200 <= status <= 299:
        return "success"
    if status == 429 or (status == 403 and throttled_403(headers or {})):
        return "throttled"
    if status == 408 or 500 <= status <= 599:
        return "transient"
    return "final"


def decide(status: int, headers: Mapping[str, str], now: float | None = None) -> Decision:
    """The decision for an HTTP answer; ``now`` (Unix seconds) defaults to the wall clock."""
    judged = verdict(status, headers)
    if judged in ("throttled", "transient"):
        return Decision(judged, wait_hint(headers, now))
    return Decision(judged)


def is_retryable(status: int, headers: Mapping[str, str] | None = None) -> bool:
    return verdict(status, headers) in ("throttled", "transient")


def backoff_bound(attempt: int, base: float, cap: float) -> float:
    """The upper bound of the wait before retry number ``attempt`` (1-based): ``base * 2**(attempt-1)``, capped."""
    exponent = min(max(attempt, 1) - 1, 62)  # 2**62 already dwarfs any cap; avoid float overflow
    return float(min(cap, base * (2.0**exponent)))
