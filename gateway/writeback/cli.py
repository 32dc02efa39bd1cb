"""``gateway deliveries list|show|replay``: the operator's dead-letter tools."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from gateway.feature import nothing_listed
from gateway.store.models.writeback import REPLAYABLE, STATES
from gateway.writeback.errors import DeliveryNotFound
from gateway.writeback.service import WritebackServices


def _print(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    if not rows:
        print(nothing_listed("deliveries"))
    for row in rows:
        remote = row.get("remote") or {}
        print(f"{row['id']}  {row['state']:<10}  {row['backend']:<8}  {row['kind']:<20}  "
              f"attempts={row['attempts']}/{row['max_attempts']}  status={remote.get('status')}  "
              f"updated={row['updated_at']}  {row.get('detail') or ''}")


def cmd_deliveries_list(args: argparse.Namespace, writeback: WritebackServices) -> int:
    documents, _ = writeback.outbox.page(scope=None, state=args.state, backend=args.backend, limit=args.limit)
    _print(documents, args.json)
    return 0


def cmd_deliveries_show(args: argparse.Namespace, writeback: WritebackServices) -> int:
    try:
        document = writeback.outbox.get(args.delivery_id, scope=None)
    except DeliveryNotFound:
        print(f"error: no delivery {args.delivery_id}", file=sys.stderr)
        return 1
    print(json.dumps(document, indent=2))
    return 0


def cmd_deliveries_replay(args: argparse.Namespace, writeback: WritebackServices) -> int:
    if bool(args.ids) == bool(args.state):
        print("error: give delivery ids or --state, not both", file=sys.stderr)
        return 2
    with writeback.db.transaction() as s:
        if args.ids:
            report = writeback.outbox.replay(s, args.ids, scope=None, actor="cli")
        else:
            report = writeback.outbox.replay_state(s, args.state, scope=None, actor="cli", limit=args.limit)
    print(json.dumps(report, indent=2))
    return 0 if not report["not_found"] and not report["not_replayable"] else 1


def register(sub: Any, feature: type) -> None:
    """Add ``deliveries`` to the ``gateway`` command."""
    deliveries = sub.add_parser("deliveries", help="inspect and replay outbox deliveries").add_subparsers(
        dest="deliveries_command", required=True
    )
    dlist = deliveries.add_parser("list", help="list deliveries, oldest first")
    dlist.add_argument("--state", choices=STATES)
    dlist.add_argument("--backend")
    dlist.add_argument("--limit", type=int, default=100)
    dlist.add_argument("--json", action="store_true")
    dlist.set_defaults(handler=cmd_deliveries_list, feature=feature)
    show = deliveries.add_parser("show", help="one delivery with its last remote answer")
    show.add_argument("delivery_id")
    show.set_defaults(handler=cmd_deliveries_show, feature=feature)
    replay = deliveries.add_parser("replay", help="requeue failed or dead deliveries (attempts reset)")
    replay.add_argument("ids", nargs="*")
    replay.add_argument("--state", choices=REPLAYABLE)
    replay.add_argument("--limit", type=int, default=1000)
    replay.set_defaults(handler=cmd_deliveries_replay, feature=feature)
