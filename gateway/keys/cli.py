"""``gateway keys generate | rotate | list``: the tool's signing keys."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from gateway.feature import add_command, print_rows
from gateway.keys.ring import RotationInProgress
from gateway.keys.service import KeysServices


def cmd_generate(args: argparse.Namespace, keys: KeysServices) -> int:
    kid = keys.keyring.generate(dev=False)
    row = next(k for k in keys.keyring.describe() if k["kid"] == kid)
    print(f"generated key {kid} ({row['status']}) under {keys.settings.keys_path}/")
    return 0


def cmd_rotate(args: argparse.Namespace, keys: KeysServices) -> int:
    try:
        kid = keys.keyring.rotate()
    except RotationInProgress as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    settings = keys.settings
    hours = settings.key_publish_delay_seconds / 3600
    print(f"published next key {kid}; signing switches to it in {hours:g} h (GATEWAY_KEY_PUBLISH_DELAY_SECONDS)")
    print(f"copy {settings.keys_path}/{kid}.pem to every replica before then")
    return 0


def cmd_list(args: argparse.Namespace, keys: KeysServices) -> int:
    keys.keyring.load()
    rows = keys.keyring.describe()
    print_rows(rows, args.json, what="signing keys")
    return 0


KEYS_HELP = """\
generate makes the first key: with no active key it signs at once. Use it once per deployment (or after
deleting a dev key, *.dev.pem, which no command removes). With a key already active, a generated key waits
as "next" like a rotated one but without rotate's audit and check: to change keys, use rotate.

rotate replaces the signing key without a failed launch or grade: it publishes the next key in the JWKS now
and switches signing to it after GATEWAY_KEY_PUBLISH_DELAY_SECONDS (platforms cache the JWKS), keeping the old
key published for GATEWAY_KEY_RETIRE_GRACE_SECONDS. It is audited and refuses while a next key is waiting."""


def register(commands: Any, feature: type) -> None:
    keys = commands.add_parser(
        "keys", help="tool signing keys: generate the first, rotate to replace it", description=KEYS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    ).add_subparsers(dest="keys_command", required=True)
    add_command(keys, "generate", feature, cmd_generate,
                help="make the first signing key (signs at once when none is active; to replace a key, rotate)",
                description=KEYS_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_command(keys, "rotate", feature, cmd_rotate,
                help="replace the signing key: publish the next key now, sign with it after the publish delay",
                description=KEYS_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    listing = add_command(keys, "list", feature, cmd_list, help="list signing keys")
    listing.add_argument("--json", action="store_true")
