"""``gateway api-keys create | list | revoke``: the vendor's API keys."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from gateway.api.keys import SCOPES, ApiKeyNotFound, ApiKeyService, UnknownScope
from gateway.feature import add_command, print_rows


def cmd_create(args: argparse.Namespace, api_keys: ApiKeyService) -> int:
    try:
        info, key = api_keys.create(args.name, args.scope)
    except UnknownScope as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({**info.__dict__, "key": key}, indent=2))
    else:
        print(f"created API key {info.id} ({info.name}) with scopes {', '.join(info.scopes)}")
        print("key (shown once; store it in your app's secrets now):")
        print(key)
    return 0


def cmd_list(args: argparse.Namespace, api_keys: ApiKeyService) -> int:
    rows = [info.__dict__ for info in api_keys.list()]
    print_rows(rows, args.json, what="API keys")
    return 0


def cmd_revoke(args: argparse.Namespace, api_keys: ApiKeyService) -> int:
    try:
        info = api_keys.revoke(args.key_id)
    except ApiKeyNotFound:
        print(f"error: no API key with id {args.key_id}", file=sys.stderr)
        return 1
    print(f"revoked {info.id} ({info.name}) at {info.revoked_at}")
    return 0


def register(commands: Any, feature: type) -> None:
    ak = commands.add_parser("api-keys", help="vendor API keys").add_subparsers(dest="ak_command", required=True)
    create = add_command(ak, "create", feature, cmd_create, help="make a key (printed once)")
    create.add_argument("--name", required=True)
    create.add_argument("--scope", action="extend", nargs="+", required=True, choices=SCOPES,
                        help="one or more scopes: --scope launches writeback (or repeat --scope)")
    create.add_argument("--json", action="store_true")
    listing = add_command(ak, "list", feature, cmd_list, help="list keys (never their secrets)")
    listing.add_argument("--json", action="store_true")
    revoke = add_command(ak, "revoke", feature, cmd_revoke, help="revoke a key by id")
    revoke.add_argument("key_id")
