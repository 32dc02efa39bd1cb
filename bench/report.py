"""What a run measured, summed over its rounds, and the tables `make bench` prints (Markdown, for the docs too)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from bench.loadgen import STEPS, Outcome


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0-100); NaN when there is nothing to rank."""
    if not values:
        return math.nan
    ranked = sorted(values)
    return ranked[min(len(ranked) - 1, max(0, math.ceil(q / 100 * len(ranked)) - 1))]


@dataclass
class ServerStats:
    """One server's launches over every round: latencies (ms) by step, errors, wall time and CPU."""

    name: str
    launches: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    db_cpu_seconds: float = 0.0
    errors: Counter[str] = field(default_factory=Counter)
    steps: dict[str, list[float]] = field(default_factory=dict)
    outbound: Counter[str] = field(default_factory=Counter)  # requests the platform got during the rounds

    def add_round(self, outcome: Outcome, cpu: float, db_cpu: float, outbound: dict[str, int]) -> None:
        self.launches += len(outcome.samples)
        self.seconds += outcome.ended - outcome.started
        self.cpu_seconds += cpu
        self.db_cpu_seconds += db_cpu
        self.errors += outcome.errors
        self.outbound.update(outbound)
        for sample in outcome.samples:
            for step, ms in sample.items():
                self.steps.setdefault(step, []).append(ms)

    @property
    def rate(self) -> float:
        return self.launches / self.seconds if self.seconds else math.nan

    @property
    def cpu_ms(self) -> float:
        """Server CPU per launch (ms): every attempt costs, so failed ones count in the denominator too."""
        attempts = self.launches + sum(self.errors.values())
        return self.cpu_seconds * 1000 / attempts if attempts else math.nan

    @property
    def db_cpu_ms(self) -> float:
        attempts = self.launches + sum(self.errors.values())
        return self.db_cpu_seconds * 1000 / attempts if attempts else math.nan

    def p(self, step: str, q: float) -> float:
        return percentile(self.steps.get(step, []), q)


def _fmt(value: float, digits: int = 1) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


def launch_table(stats: list[ServerStats], db_servers: set[str]) -> str:
    """Servers as columns; ``db_servers`` name those whose database server is PostgreSQL (its CPU is theirs)."""
    rows: list[tuple[str, list[str]]] = [
        ("launches (ok)", [f"{s.launches:,}" for s in stats]),
        ("launches/s", [_fmt(s.rate) for s in stats]),
        ("server CPU ms per launch", [_fmt(s.cpu_ms, 2) for s in stats]),
        ("PostgreSQL server CPU ms per launch",
         [_fmt(s.db_cpu_ms, 2) + ("" if s.name in db_servers else " (background)") for s in stats]),
    ]
    for step in ("total", *STEPS):
        label = "whole launch" if step == "total" else step
        if any(step in s.steps for s in stats):
            rows.append((f"{label} p50 / p95 / p99 ms",
                         [" / ".join(_fmt(s.p(step, q)) for q in (50, 95, 99)) if step in s.steps else "-"
                          for s in stats]))
    rows.append(("errors", [", ".join(f"{k}: {v}" for k, v in sorted(s.errors.items())) or "0" for s in stats]))
    rows.append(("platform calls during the rounds",
                 [", ".join(f"{k} {v}" for k, v in sorted(s.outbound.items()) if v) or "0" for s in stats]))
    head = "| | " + " | ".join(s.name for s in stats) + " |"
    lines = [head, "|---" * (len(stats) + 1) + "|"]
    lines += [f"| {label} | " + " | ".join(cells) + " |" for label, cells in rows]
    return "\n".join(lines)


@dataclass(frozen=True)
class Ratios:
    cpu: float  # gateway CPU per launch ÷ the baseline's (target ≤ 1.0)
    p99: float  # gateway whole-launch p99 ÷ the baseline's (target ≤ 1.0)
    rate: float  # gateway launches/s ÷ the baseline's (target ≥ 1.0)


def ratios(gateway: ServerStats, baseline: ServerStats) -> Ratios:
    def div(a: float, b: float) -> float:
        return a / b if b and not math.isnan(b) else math.nan

    return Ratios(div(gateway.cpu_ms, baseline.cpu_ms), div(gateway.p("total", 99), baseline.p("total", 99)),
                  div(gateway.rate, baseline.rate))


def ratio_table(gateways: list[ServerStats], baselines: list[ServerStats]) -> str:
    lines = ["| gateway ÷ baseline | CPU per launch (≤ 1.0) | whole-launch p99 (≤ 1.0) | launches/s (≥ 1.0) |",
             "|---|---|---|---|"]
    for gateway in gateways:
        for baseline in baselines:
            r = ratios(gateway, baseline)
            lines.append(f"| {gateway.name} ÷ {baseline.name} | {_fmt(r.cpu, 2)}x | {_fmt(r.p99, 2)}x "
                         f"| {_fmt(r.rate, 2)}x |")
    return "\n".join(lines)
