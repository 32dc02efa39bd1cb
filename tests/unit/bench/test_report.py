"""The bench's table arithmetic: the ratios the issue's targets are read from (no benchmark runs here)."""

from __future__ import annotations

import math
from collections import Counter

from bench.loadgen import Outcome
from bench.report import ServerStats, percentile, ratio_table, ratios


def stats(name: str, *, totals: list[float], seconds: float, cpu: float, errors: int = 0) -> ServerStats:
    made = ServerStats(name)
    outcome = Outcome([{"total": t, "login": t / 2} for t in totals], Counter({"launch 400 X": errors} if errors
                                                                            else {}), 100.0, 100.0 + seconds)
    made.add_round(outcome, cpu, 0.0, {"jwks": 0})
    return made


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 99)) == (50.0, 95.0, 99.0)
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))


def test_ratios_divide_the_gateway_by_the_baseline() -> None:
    gateway = stats("gateway", totals=[10.0] * 98 + [200.0] * 2, seconds=10.0, cpu=2.0)  # 20 ms a launch, 10/s
    baseline = stats("pylti1p3", totals=[5.0] * 98 + [50.0] * 2, seconds=2.0, cpu=0.5)  # 5 ms a launch, 50/s
    found = ratios(gateway, baseline)
    assert (round(found.cpu, 6), round(found.p99, 6), round(found.rate, 6)) == (4.0, 200.0 / 50.0, 0.2)
    assert "| gateway ÷ pylti1p3 | 4.00x | 4.00x | 0.20x |" in ratio_table([gateway], [baseline])


def test_failed_launches_count_in_cpu_per_launch_but_not_in_the_rate() -> None:
    made = stats("gateway", totals=[10.0] * 8, seconds=2.0, cpu=0.1, errors=2)
    assert round(made.cpu_ms, 6) == 10.0  # 100 ms of CPU over 10 attempts
    assert made.rate == 4.0  # 8 launches that worked, in 2 s


def test_the_scale_out_table_divides_two_replicas_by_one() -> None:
    from bench.scaleout import ONE, TWO, Delivery, markdown

    one = stats(ONE, totals=[10.0] * 100, seconds=1.0, cpu=0.8)  # 100/s, 8 ms a launch
    two = stats(TWO, totals=[10.0] * 150, seconds=1.0, cpu=1.5)  # 150/s, 10 ms a launch
    text = markdown([one, two], [Delivery(1, 500, 50.0, 10.0, 2.0), Delivery(2, 900, 90.0, 11.0, 2.0)],
                    "1 replica 90% / 2 replicas 95%")
    assert "launches/s 1.50x; gateway CPU per launch 1.25x" in text
    assert "| 2 x `gateway worker --concurrency 4` | 900 | 90.0 | 11.00 | 2.00 |" in text
    assert "Two workers ÷ one: 1.80x grades/s." in text and "1 replica 90% / 2 replicas 95%" in text
