"""``python -m bench [launch|writeback|all|soak|profile] [options]``: see docs/benchmarks.md.

``all`` (what ``make bench`` runs): the launch rounds, then the writeback bench on the same gateways. Everything
listens on loopback, stops by itself, and prints Markdown; ``--out FILE`` writes it there too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform as py_platform
import subprocess
import sys
import time
from pathlib import Path

from bench import launch, writeback
from bench.world import BASELINES, ENGINES, world


def machine_facts() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            check=False).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "gateway"], capture_output=True, text=True,
                           check=False).stdout.strip()
    pg = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version"],
                        capture_output=True, text=True, check=False).stdout.strip() or "unknown"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, commit {commit}{' (gateway/ modified)' if dirty else ''}; "
            f"{os.cpu_count()} CPUs ({cpu}); Python {py_platform.python_version()}; PostgreSQL {pg}; "
            f"load average before the run {load}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("what", nargs="?", default="all", choices=["all", "launch", "writeback", "soak", "profile",
                                                                   "scaleout"])
    parser.add_argument("--n", type=int, default=600, help="launches per server per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--students", type=int, default=1000, help="the students of the course (each launches once "
                        "first; a batch of grades holds one grade per student, at most 1,000)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads in all (over --processes)")
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--no-baselines", action="store_true", help="the gateways only")
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--puts", type=int, default=1000)
    parser.add_argument("--delivery-seconds", type=float, default=30.0)
    parser.add_argument("--minutes", type=float, default=10.0, help="soak: how long")
    parser.add_argument("--seconds", type=float, default=30.0, help="profile: how long py-spy samples each engine")
    parser.add_argument("--scaleout-n", type=int, default=300,
                        help="scale-out: launches per configuration (1 replica, 2 replicas) per round")
    parser.add_argument("--scaleout-rounds", type=int, default=2)
    parser.add_argument("--scaleout-students", type=int, default=200)
    parser.add_argument("--out", type=Path, help="also write the Markdown report here")
    args = parser.parse_args(argv)

    engines = tuple(e for e in args.engines.split(",") if e)
    started = time.monotonic()
    facts = machine_facts()
    print(f"# Benchmark run: {facts}\n", flush=True)
    sections: list[str] = []
    if args.what == "soak":
        from bench import soak

        sections.append(soak.run(engines[0], args.minutes, args.students, args.concurrency, args.processes))
    elif args.what == "profile":
        from bench import profile

        sections.append(profile.run(engines, args.seconds, args.students, args.concurrency, args.processes))
    elif args.what != "scaleout":
        baselines = () if args.no_baselines or args.what == "writeback" else BASELINES
        with world(engines=engines, baselines=baselines, students=args.students, processes=args.processes) as w:
            if args.what in ("all", "launch"):
                options = launch.LaunchOptions(args.n, args.rounds if args.what != "writeback" else 0,
                                               args.concurrency)
                result = launch.run(w, options, args.students)
                sections.append(f"## Launches: {options.rounds} rounds x {options.n} per server, concurrency "
                                f"{options.concurrency} from {args.processes} client processes\n\n"
                                + result.markdown(w))
            else:
                launch.first_launches(w, args.students, args.concurrency)
            if args.what in ("all", "writeback"):
                wb = writeback.WritebackOptions(args.batches, min(1000, args.students), args.puts, args.concurrency,
                                                args.delivery_seconds)
                sections.append("## Writeback\n\n" + writeback.run(w, wb))
    if args.what == "scaleout" or (args.what == "all" and "postgresql" in engines):
        from bench import scaleout

        sections.append(
            f"## Two replicas on one PostgreSQL: {args.scaleout_rounds} rounds x {args.scaleout_n} launches per "
            f"configuration, concurrency {args.concurrency} from {args.processes} client processes\n\n"
            + scaleout.run(students=args.scaleout_students, n=args.scaleout_n, rounds=args.scaleout_rounds,
                           concurrency=args.concurrency, processes=args.processes,
                           delivery_seconds=min(args.delivery_seconds, 15.0)))
    text = f"Run: {facts}; took {time.monotonic() - started:.0f} s.\n\n" + "\n\n".join(sections) + "\n"
    print(text, flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
