"""One more gateway process spending a Clever district token, as a worker, a replica or the CLI would.

``python -m tests.support.clever_budget_proc TOKEN CALLS`` with the gateway's ``GATEWAY_*`` environment: builds the
gateway's services the way every process does (:func:`gateway.bootstrap.bootstrap`), calls ``GET /v3.1/districts``
``CALLS`` times through the Clever client, and prints what happened as JSON: calls answered, calls the token's
budget held back, and Clever's own 429s.
"""

from __future__ import annotations

import json
import sys

from gateway.bootstrap import bootstrap
from gateway.clever.errors import CleverRateLimited
from gateway.settings import load_settings


def main(token: str, calls: int) -> dict[str, int]:
    services = bootstrap(load_settings())
    counts = {"answered": 0, "held_back": 0, "clever_429": 0}
    try:
        for _ in range(calls):
            try:
                services.clever.client.districts(token)
                counts["answered"] += 1
            except CleverRateLimited as e:
                counts["clever_429" if e.clever_status == 429 else "held_back"] += 1
    finally:
        services.close()
    return counts


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]))))
