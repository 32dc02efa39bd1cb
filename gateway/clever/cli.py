"""``gateway clever ...``: discover district tokens, list districts, run a roster sync now."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from gateway.clever.errors import CleverApiError, CleverNotConfigured
from gateway.clever.service import CleverServices
from gateway.errors import GatewayError
from gateway.feature import nothing_listed


def _emit(data: Any, as_json: bool, what: str = "") -> None:
    """JSON when asked, else one ``key=value`` line a row; an empty list of ``what`` says so."""
    if as_json:
        print(json.dumps(data, indent=2))
        return
    if what and not data:
        print(nothing_listed(what))
    for row in data if isinstance(data, list) else [data]:
        print("  ".join(f"{k}={v}" for k, v in row.items() if not isinstance(v, dict | list)))


# What every Clever command that calls Clever says when Clever is not set up: the settings, and where they come from.
NOT_CONFIGURED = (
    f"error: {CleverNotConfigured.code}: Clever is not set up here: set GATEWAY_CLEVER_CLIENT_ID and "
    "GATEWAY_CLEVER_CLIENT_SECRET (your Clever application's client id and secret; README \"Clever setup\")"
)


def _configured(clever: CleverServices) -> bool:
    if not clever.config.configured:
        print(NOT_CONFIGURED, file=sys.stderr)
        return False
    return True


def cmd_districts_sync(args: argparse.Namespace, clever: CleverServices) -> int:
    if not _configured(clever):
        return 1
    try:
        result = clever.tokens.sync(actor="cli")
    except GatewayError as e:
        print(f"error: {e.code}: {e.message}", file=sys.stderr)
        return 1
    _emit(result.summary(), args.json)
    return 0


def cmd_districts_list(args: argparse.Namespace, clever: CleverServices) -> int:
    rows, cursor = clever.roster.districts(None, 500)
    while cursor:
        more, cursor = clever.roster.districts(cursor, 500)
        rows.extend(more)
    if args.json:
        _emit(rows, True)
    else:
        _emit([{"id": r["id"], "name": r["name"], "status": r["status"], "sync": r["sync"]["status"],
                "synced_at": r["sync"]["synced_at"], "failures": r["sync"]["failures"],
                "retry_at": r["sync"]["retry_at"]} for r in rows], False, "districts")
    return 0


def cmd_roster_sync(args: argparse.Namespace, clever: CleverServices) -> int:
    if not _configured(clever):  # district tokens come from `clever districts sync`, which needs the same
        return 1
    try:
        if args.district_id:
            outcome = clever.sync.sync(args.district_id, full=args.full)
            outcomes = [outcome] if outcome is not None else []
            if outcome is None:
                print("error: the district is not connected or another worker is syncing it", file=sys.stderr)
                return 1
        else:
            outcomes = clever.sync.run_due()
    except CleverApiError as e:
        print(f"error: {e.code}: {e.message}", file=sys.stderr)
        return 1
    _emit([{"district_id": o.district_id, "ok": o.ok, "mode": o.mode, "error_code": o.error_code, **o.counts}
           for o in outcomes], args.json, "districts due for a sync")
    return 0 if all(o.ok for o in outcomes) else 1


def register(sub: Any, feature: type) -> None:
    clever = sub.add_parser("clever", help="Clever: district tokens and roster sync")
    commands = clever.add_subparsers(dest="clever_command", required=True)
    districts = commands.add_parser("districts", help="Secure Sync districts").add_subparsers(
        dest="districts_command", required=True)
    dsync = districts.add_parser("sync", help="fetch district-app tokens from Clever (connect/disconnect)")
    dsync.add_argument("--json", action="store_true")
    dsync.set_defaults(handler=cmd_districts_sync, feature=feature)
    dlist = districts.add_parser("list", help="list districts and their sync state")
    dlist.add_argument("--json", action="store_true")
    dlist.set_defaults(handler=cmd_districts_list, feature=feature)
    roster = commands.add_parser("roster", help="roster sync").add_subparsers(dest="roster_command", required=True)
    rsync = roster.add_parser("sync", help="sync one district now, or every district that is due")
    rsync.add_argument("district_id", nargs="?")
    rsync.add_argument("--full", action="store_true", help="full sync instead of events")
    rsync.add_argument("--json", action="store_true")
    rsync.set_defaults(handler=cmd_roster_sync, feature=feature)
