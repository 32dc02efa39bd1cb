"""``gateway worker`` and ``gateway deliveries list|show|replay`` (the operator's dead-letter tools)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from gateway.bootstrap import Services, bootstrap
from gateway.ops.logs import configure_logging
from gateway.settings import Settings
from gateway.store.models.writeback import REPLAYABLE, STATES
from gateway.writeback.errors import DeliveryNotFound
from gateway.writeback.worker import Worker

Handler = Callable[[argparse.Namespace, Settings], int]


def run_worker(services: Services, *, concurrency: int | None = None, metrics_port: int | None = None,
               metrics_host: str = "127.0.0.1") -> int:
    """Run one worker in this process until SIGTERM or SIGINT; in-flight deliveries finish first. Returns 0."""
    configure_logging(services.settings.log_level)
    if not services.db.migrations_current():
        print("gateway worker: the database is not migrated; run `gateway db upgrade` first", file=sys.stderr)
        return 1
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, metrics_host, registry=services.metrics.registry)
    worker = Worker(services, concurrency=concurrency)
    if not services.delivery_backends:
        print("gateway worker: no delivery backends are configured; running periodic jobs only", file=sys.stderr)
    requested: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        # Only note it: taking locks inside a signal handler can deadlock the thread it interrupted.
        requested.append(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    thread = threading.Thread(target=worker.run, name="outbox-worker")
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.1)
            if requested and not worker.stopping:
                worker.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    services = bootstrap(settings)
    try:
        return run_worker(services, concurrency=args.concurrency, metrics_port=args.metrics_port,
                          metrics_host=args.metrics_host)
    finally:
        services.close()


def _print(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        remote = row.get("remote") or {}
        print(f"{row['id']}  {row['state']:<10}  {row['backend']:<8}  {row['kind']:<20}  "
              f"attempts={row['attempts']}/{row['max_attempts']}  status={remote.get('status')}  "
              f"updated={row['updated_at']}  {row.get('detail') or ''}")


def cmd_deliveries_list(args: argparse.Namespace, settings: Settings) -> int:
    services = bootstrap(settings)
    try:
        documents, _ = services.outbox.page(scope=None, state=args.state, backend=args.backend, limit=args.limit)
    finally:
        services.close()
    _print(documents, args.json)
    return 0


def cmd_deliveries_show(args: argparse.Namespace, settings: Settings) -> int:
    services = bootstrap(settings)
    try:
        document = services.outbox.get(args.delivery_id, scope=None)
    except DeliveryNotFound:
        print(f"error: no delivery {args.delivery_id}", file=sys.stderr)
        return 1
    finally:
        services.close()
    print(json.dumps(document, indent=2))
    return 0


def cmd_deliveries_replay(args: argparse.Namespace, settings: Settings) -> int:
    if bool(args.ids) == bool(args.state):
        print("error: give delivery ids or --state, not both", file=sys.stderr)
        return 2
    services = bootstrap(settings)
    try:
        with services.db.transaction() as s:
            if args.ids:
                report = services.outbox.replay(s, args.ids, scope=None, actor="cli")
            else:
                report = services.outbox.replay_state(s, args.state, scope=None, actor="cli", limit=args.limit)
    finally:
        services.close()
    print(json.dumps(report, indent=2))
    return 0 if not report["not_found"] and not report["not_replayable"] else 1


def register(sub: Any) -> None:
    """Add ``worker`` and ``deliveries`` to the ``gateway`` command."""
    worker = sub.add_parser("worker", help="deliver the outbox and run periodic jobs (SIGTERM finishes in-flight)")
    worker.add_argument("--concurrency", type=int, default=None,
                        help="delivery threads (default GATEWAY_WRITEBACK_CONCURRENCY)")
    worker.add_argument("--metrics-port", type=int, default=None, help="serve Prometheus metrics on this port")
    worker.add_argument("--metrics-host", default="127.0.0.1")
    worker.set_defaults(handler=cmd_worker)

    deliveries = sub.add_parser("deliveries", help="inspect and replay outbox deliveries").add_subparsers(
        dest="deliveries_command", required=True
    )
    dlist = deliveries.add_parser("list", help="list deliveries, oldest first")
    dlist.add_argument("--state", choices=STATES)
    dlist.add_argument("--backend")
    dlist.add_argument("--limit", type=int, default=100)
    dlist.add_argument("--json", action="store_true")
    dlist.set_defaults(handler=cmd_deliveries_list)
    show = deliveries.add_parser("show", help="one delivery with its last remote answer")
    show.add_argument("delivery_id")
    show.set_defaults(handler=cmd_deliveries_show)
    replay = deliveries.add_parser("replay", help="requeue failed or dead deliveries (attempts reset)")
    replay.add_argument("ids", nargs="*")
    replay.add_argument("--state", choices=REPLAYABLE)
    replay.add_argument("--limit", type=int, default=1000)
    replay.set_defaults(handler=cmd_deliveries_replay)
