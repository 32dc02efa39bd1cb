"""The per-token fixed window, on a fake clock (no real waiting)."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.clever.ratelimit import MAX_KEYS, RateLimiter


@dataclass
class FakeClock:
    now: float = 1_000_040.0
    slept: list[float] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_window_full_waits_for_the_next_minute() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, clock=clock.time, sleep=clock.sleep)
    for _ in range(3):
        assert limiter.acquire("t") == 0.0
    waited = limiter.acquire("t")
    # Windows start on whole minutes: this one began at 1_000_020, 20 s ago, so it resets in 40 s.
    assert waited == 40.0
    assert clock.slept == [40.0]


def test_tokens_have_their_own_windows() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1, clock=clock.time, sleep=clock.sleep)
    limiter.acquire("a")
    assert limiter.acquire("b") == 0.0


def test_block_until_a_429_reset_instant() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1200, clock=clock.time, sleep=clock.sleep)
    limiter.block_until("t", clock.now + 2.5)
    assert limiter.acquire("t") == 2.5
    assert limiter.acquire("t") == 0.0


def test_the_limiter_forgets_idle_tokens() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock.time, sleep=clock.sleep)
    for i in range(MAX_KEYS):
        limiter.acquire(f"login-{i}")
    clock.now += 60  # a new window: every login token so far is idle
    limiter.acquire("fresh")
    limiter.acquire("fresher")
    assert limiter.tracked <= 2
