"""The in-memory tally behind the console's windowed refusal counts: minute buckets, a sliding span."""

from __future__ import annotations

from gateway.ops.recent import RecentTally

NOON = 1_800_000_000.0  # a whole minute


def _tally(at: list[float], span: float = 86400) -> RecentTally:
    return RecentTally(span_seconds=span, clock=lambda: at[0])


def test_counts_fall_in_the_windows_that_cover_them() -> None:
    at = [NOON - 2 * 3600]
    tally = _tally(at)
    tally.add("LTI_NONCE_REUSED")
    at[0] = NOON - 90
    tally.add("LTI_NONCE_REUSED", 2)
    tally.add("LTI_TOKEN_EXPIRED")
    at[0] = NOON
    assert tally.since(3600) == {"LTI_NONCE_REUSED": 2, "LTI_TOKEN_EXPIRED": 1}
    assert tally.since(86400) == {"LTI_NONCE_REUSED": 3, "LTI_TOKEN_EXPIRED": 1}
    assert tally.since(30) == {}


def test_what_is_older_than_the_span_is_forgotten_and_never_counted() -> None:
    at = [NOON]
    tally = _tally(at, span=3600)
    tally.add("A")
    at[0] = NOON + 2 * 3600
    tally.add("B")
    assert tally.since(86400) == {"B": 1}  # a window wider than the span is cut to the span
    assert len(tally._buckets) == 1  # the stale minute was dropped, so memory stays bounded
