"""``gateway admins create | list | disable | unlock | set-password``: operator console accounts. Audited as actor
``cli``. A password is never an argument (it would sit in the shell's history and the process list): it is typed
twice at a prompt, or read from standard input with ``--password-stdin``."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from gateway.console.accounts import AccountInfo
from gateway.console.errors import ConsoleError
from gateway.console.service import ConsoleServices
from gateway.feature import add_command, print_rows
from gateway.store.models.console import ROLES


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise SystemExit("error: the passwords differ")
    return first


def cmd_create(args: argparse.Namespace, console: ConsoleServices) -> int:
    try:
        made = console.accounts.create(args.name, _password(args), args.role, totp=args.totp, actor="cli")
    except ConsoleError as e:
        print(f"error: {e.code}: {e.message}", file=sys.stderr)
        return 1
    print(f"created {made.info.role} account {made.info.name} ({made.info.id})")
    if made.totp_uri:
        # Shown once: the secret is stored encrypted and never displayed again.
        print(f"TOTP secret (add it to an authenticator app now; it is not shown again): {made.totp_secret}")
        print(f"otpauth URI: {made.totp_uri}")
    return 0


def cmd_list(args: argparse.Namespace, console: ConsoleServices) -> int:
    rows = [{"id": a.id, "name": a.name, "role": a.role, "totp": a.totp, "disabled_at": a.disabled_at,
             "locked_until": a.locked_until, "failed_sign_ins": a.failed_sign_ins}
            for a in console.accounts.list()]
    print_rows(rows, args.json, what="admin accounts")
    return 0


def _account(console: ConsoleServices, name: str) -> AccountInfo | None:
    found = next((a for a in console.accounts.list() if name in (a.name, a.id)), None)
    if found is None:
        print(f"error: CONSOLE_ACCOUNT_NOT_FOUND: no account {name!r}", file=sys.stderr)
    return found


def cmd_disable(args: argparse.Namespace, console: ConsoleServices) -> int:
    found = _account(console, args.name)
    if found is None:
        return 1
    try:
        console.accounts.disable(found.id, actor="cli")
    except ConsoleError as e:
        print(f"error: {e.code}: {e.message}", file=sys.stderr)
        return 1
    print(f"disabled {found.name}")
    return 0


def cmd_unlock(args: argparse.Namespace, console: ConsoleServices) -> int:
    found = _account(console, args.name)
    if found is None:
        return 1
    console.accounts.unlock(found.id, actor="cli")
    print(f"unlocked {found.name}" if found.locked_until else f"{found.name} was not locked; its failure count is 0")
    return 0


def cmd_set_password(args: argparse.Namespace, console: ConsoleServices) -> int:
    found = _account(console, args.name)
    if found is None:
        return 1
    try:
        console.accounts.set_password(found.id, _password(args), actor="cli")
    except ConsoleError as e:
        print(f"error: {e.code}: {e.message}", file=sys.stderr)
        return 1
    print(f"set the password of {found.name}; its sessions have ended"
          + (" (it is still locked: gateway admins unlock)" if found.locked_until else ""))
    return 0


def register(commands: Any, feature: type) -> None:
    admins = commands.add_parser("admins", help="operator console accounts").add_subparsers(
        dest="admins_command", required=True)
    create = add_command(admins, "create", feature, cmd_create, help="make a console account")
    create.add_argument("name")
    create.add_argument("--role", choices=ROLES, default="admin", help="admin acts; support only reads")
    create.add_argument("--totp", action="store_true", help="require a TOTP code at sign-in (secret shown once)")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    listing = add_command(admins, "list", feature, cmd_list, help="list console accounts")
    listing.add_argument("--json", action="store_true")
    disable = add_command(admins, "disable", feature, cmd_disable, help="disable an account, ending its sessions")
    disable.add_argument("name", help="account name or id")
    unlock = add_command(admins, "unlock", feature, cmd_unlock,
                         help="end an account's lock after failed sign-ins (and start its count again)")
    unlock.add_argument("name", help="account name or id")
    set_password = add_command(admins, "set-password", feature, cmd_set_password,
                               help="set an account's password (asked twice, or from stdin), ending its sessions")
    set_password.add_argument("name", help="account name or id")
    set_password.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
