"""`python -m bench [name ...]`: run benchmarks and print one line each."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = [str(Path(__file__).parent)]
    names = argv or sorted(m.name[len("bench_") :] for m in pkgutil.iter_modules(here) if m.name.startswith("bench_"))
    for name in names:
        module = importlib.import_module(f"bench.bench_{name}")
        for result in module.main():
            print(result.line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
