"""The ``gateway`` command: serve, database, tool keys, API keys.

Each sub-command builds services through :func:`gateway.bootstrap.bootstrap`,
so the CLI sees exactly the configuration the server sees.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from gateway.api.keys import SCOPES, ApiKeyNotFound, UnknownScope
from gateway.bootstrap import Services, bootstrap
from gateway.settings import Settings, SettingsError, load_settings

Handler = Callable[[argparse.Namespace, Settings], int]


def _services(settings: Settings) -> Services:
    return bootstrap(settings)


def _print(data: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(data, indent=2))
        return
    rows = data if isinstance(data, list) else [data]
    for row in rows:
        print("  ".join(f"{k}={v}" for k, v in row.items()))


# -- serve -----------------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.app import create_app, dev_signing_key_present
    from gateway.settings import check_production

    check_production(settings, signing_key_is_dev=dev_signing_key_present(settings))
    if settings.is_dev or args.migrate:
        svc = _services(settings)
        svc.db.upgrade()
        svc.close()
    from gateway.serve import run_server

    run_server(create_app, settings, host=args.host or settings.host, port=args.port or settings.port,
               workers=args.workers, threads=args.threads)
    return 0


# -- db --------------------------------------------------------------------------------------------


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    svc = _services(settings)
    svc.db.upgrade(args.revision)
    print(f"database at revision(s): {', '.join(sorted(svc.db.current_revisions()))}")
    svc.close()
    return 0


def cmd_db_current(args: argparse.Namespace, settings: Settings) -> int:
    svc = _services(settings)
    current, heads = svc.db.current_revisions(), svc.db.migration_heads()
    print(f"current: {', '.join(sorted(current)) or '(empty)'}; heads: {', '.join(sorted(heads))}")
    svc.close()
    return 0 if current == heads else 1


# -- tool keys -------------------------------------------------------------------------------------


def cmd_keys_generate(args: argparse.Namespace, settings: Settings) -> int:
    svc = _services(settings)
    kid = svc.keyring.generate(dev=False)
    row = next(k for k in svc.keyring.describe() if k["kid"] == kid)
    print(f"generated key {kid} ({row['status']}) under {settings.keys_path}/")
    svc.close()
    return 0


def cmd_keys_rotate(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.keys.ring import RotationInProgress

    svc = _services(settings)
    try:
        kid = svc.keyring.rotate()
    except RotationInProgress as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        svc.close()
    hours = settings.key_publish_delay_seconds / 3600
    print(f"published next key {kid}; signing switches to it in {hours:g} h (GATEWAY_KEY_PUBLISH_DELAY_SECONDS)")
    print(f"copy {settings.keys_path}/{kid}.pem to every replica before then")
    return 0


def cmd_keys_list(args: argparse.Namespace, settings: Settings) -> int:
    svc = _services(settings)
    svc.keyring.load()
    _print(svc.keyring.describe(), args.json)
    svc.close()
    return 0


# -- API keys --------------------------------------------------------------------------------------


def cmd_api_keys_create(args: argparse.Namespace, settings: Settings) -> int:
    svc = _services(settings)
    try:
        info, key = svc.api_keys.create(args.name, args.scope)
    except UnknownScope as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        svc.close()
    if args.json:
        print(json.dumps({**info.__dict__, "key": key}, indent=2))
    else:
        print(f"created API key {info.id} ({info.name}) with scopes {', '.join(info.scopes)}")
        print("key (shown once; store it in your app's secrets now):")
        print(key)
    return 0


def cmd_api_keys_list(args: argparse.Namespace, settings: Settings) -> int:
    svc = _services(settings)
    _print([info.__dict__ for info in svc.api_keys.list()], args.json)
    svc.close()
    return 0


def cmd_api_keys_revoke(args: argparse.Namespace, settings: Settings) -> int:
    svc = _services(settings)
    try:
        info = svc.api_keys.revoke(args.key_id)
    except ApiKeyNotFound:
        print(f"error: no API key with id {args.key_id}", file=sys.stderr)
        return 1
    finally:
        svc.close()
    print(f"revoked {info.id} ({info.name}) at {info.revoked_at}")
    return 0


# -- parser ----------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gateway", description="The district-systems gateway.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve HTTP (gunicorn)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--threads", type=int, default=8)
    serve.add_argument("--migrate", action="store_true", help="run `db upgrade` first (always on in dev)")
    serve.set_defaults(handler=cmd_serve)

    db = sub.add_parser("db", help="database migrations").add_subparsers(dest="db_command", required=True)
    up = db.add_parser("upgrade", help="apply migrations")
    up.add_argument("revision", nargs="?", default="heads")
    up.set_defaults(handler=cmd_db_upgrade)
    db.add_parser("current", help="exit 0 when migrations are current").set_defaults(handler=cmd_db_current)

    keys = sub.add_parser("keys", help="tool signing keys").add_subparsers(dest="keys_command", required=True)
    keys.add_parser("generate", help="make a new signing key").set_defaults(handler=cmd_keys_generate)
    keys.add_parser("rotate", help="publish the next key; signing switches after the publish delay").set_defaults(
        handler=cmd_keys_rotate
    )
    klist = keys.add_parser("list", help="list signing keys")
    klist.add_argument("--json", action="store_true")
    klist.set_defaults(handler=cmd_keys_list)

    ak = sub.add_parser("api-keys", help="vendor API keys").add_subparsers(dest="ak_command", required=True)
    create = ak.add_parser("create", help="make a key (printed once)")
    create.add_argument("--name", required=True)
    create.add_argument("--scope", action="extend", nargs="+", required=True, choices=SCOPES,
                        help="one or more scopes: --scope launches writeback (or repeat --scope)")
    create.add_argument("--json", action="store_true")
    create.set_defaults(handler=cmd_api_keys_create)
    aklist = ak.add_parser("list", help="list keys (never their secrets)")
    aklist.add_argument("--json", action="store_true")
    aklist.set_defaults(handler=cmd_api_keys_list)
    revoke = ak.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("key_id")
    revoke.set_defaults(handler=cmd_api_keys_revoke)
    # Feature packages register their sub-commands here, one call each:
    # -- lti commands --
    from gateway.lti.cli import register as register_lti

    register_lti(sub)
    # -- clever commands --
    from gateway.clever.cli import register as register_clever

    register_clever(sub)
    # -- writeback commands --
    from gateway.writeback.cli import register as register_writeback

    register_writeback(sub)
    # -- identity commands --
    from gateway.identity.cli import register as register_identity

    register_identity(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        handler: Handler = args.handler
        return handler(args, settings)
    except SettingsError as e:
        print(f"gateway: refusing to start: {e}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
