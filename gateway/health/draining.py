"""Draining: a replica told to stop says so on ``/readyz`` before it stops taking requests.

A load balancer sends new requests to a replica until its readiness check fails, so a replica that stopped
accepting at once on SIGTERM would see connections refused in the seconds the balancer needs to notice. On
SIGTERM a ``gateway serve`` worker first sets this flag (``/readyz`` answers 503 ``draining``) and keeps serving
for ``GATEWAY_SHUTDOWN_GRACE_SECONDS``; then it stops accepting and finishes the requests in flight.
"""

from __future__ import annotations

import threading
from collections.abc import MutableMapping
from typing import Any

DRAINING = "gateway.draining"


def drain_flag(extensions: MutableMapping[str, Any]) -> threading.Event:
    """The app's draining flag (made on first use): set once this process was told to stop."""
    flag = extensions.setdefault(DRAINING, threading.Event())
    assert isinstance(flag, threading.Event)
    return flag


def is_draining(extensions: MutableMapping[str, Any]) -> bool:
    flag = extensions.get(DRAINING)
    return isinstance(flag, threading.Event) and flag.is_set()
