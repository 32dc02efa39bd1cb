"""``gateway registrations add|list|show|update|disable|enable`` and ``gateway deployments list|approve|disable``.

Each command runs :mod:`gateway.lti.management` in one transaction, audited with the actor ``cli:<OS user>``.
``add --lms <preset>`` fills the issuer and endpoints the LMS publishes (:mod:`gateway.lti.presets`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

import gateway.lti.management as management
from gateway.errors import GatewayError
from gateway.feature import nothing_listed
from gateway.keys import operator_actor
from gateway.lti.presets import PRESETS
from gateway.lti.registrations import DEPLOYMENT_STATUSES, LMS_KINDS, REGISTRATION_STATUSES
from gateway.lti.service import LtiServices
from gateway.store.repositories.lti_registrations import DeploymentRepository, RegistrationRepository

Handler = Callable[[argparse.Namespace, LtiServices], int]
LMS_CHOICES = tuple(dict.fromkeys((*PRESETS, *LMS_KINDS)))


class _Failed(Exception):
    pass


@contextmanager
def _session(lti: LtiServices) -> Iterator[Session]:
    """One transaction; a refusal is printed with its code and the command exits 1."""
    try:
        with lti.db.transaction() as s:
            yield s
    except GatewayError as e:
        print(f"error: {e.code}: {e.message}", file=sys.stderr)
        for problem in e.extra.get("errors", []):
            print(f"  {problem['field']}: {problem['message']}", file=sys.stderr)
        raise _Failed() from e


def _run(command: Handler) -> Handler:
    def handler(args: argparse.Namespace, lti: LtiServices) -> int:
        try:
            return command(args, lti)
        except _Failed:
            return 1

    return handler


def _options(pairs: list[str] | None) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; a VALUE that parses as JSON (true, 3, ["a"]) is taken as that, else as a string."""
    options: dict[str, Any] = {}
    for pair in pairs or ():
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"gateway: --option takes KEY=VALUE, got {pair!r}")
        try:
            options[key] = json.loads(raw)
        except ValueError:
            options[key] = raw
    return options


def _emit(document: Any, as_json: bool, lines: Callable[[], list[str]]) -> None:
    print(json.dumps(document, indent=2) if as_json else "\n".join(lines()))


def _describe_registration(r: dict[str, Any]) -> list[str]:
    counts = ", ".join(f"{n} {s}" for s, n in r["deployment_counts"].items() if n) or "no deployments"
    return [
        f"{r['id']}  {r['name']}  [{r['status']}]",
        f"  lms: {r['lms']}   issuer: {r['issuer']}   client id: {r['client_id']}",
        f"  OIDC auth: {r['auth_login_url']}",
        f"  token:     {r['auth_token_url']}" + (f"   (audience {r['auth_audience']})" if r["auth_audience"] else ""),
        f"  JWKS:      {r['jwks_url']}",
        f"  new deployments: {'active at once' if r['auto_activate_deployments'] else 'pending until approved'}"
        f"   deployments: {counts}",
        f"  options: {json.dumps(r['options'])}",
        "  granted scopes: " + (" ".join(r["granted_scopes"]) if r["granted_scopes"] is not None
                                else "not known (the launches' service claims decide)"),
        f"  LTI 1.1 secret (migration claim): {r['lti11_secret']}",
    ]


def _read_secret(args: argparse.Namespace) -> str | None:
    """The LTI 1.1 secret from standard input (never an argument: it would show in ``ps`` and shell history)."""
    if not args.lti11_secret_stdin:
        return None
    secret = sys.stdin.readline().strip()
    if not secret:
        raise SystemExit("gateway: --lti11-secret-stdin read no secret from standard input")
    return secret


def _describe_deployment(d: dict[str, Any]) -> str:
    name = f"  {d['name']}" if d["name"] else ""
    return f"{d['id']}  {d['status']:<8}  {d['registration_id']}  deployment_id={d['deployment_id']}{name}"


# -- registrations --------------------------------------------------------------------------------------


def cmd_add(args: argparse.Namespace, lti: LtiServices) -> int:
    preset = args.lms if args.lms in PRESETS else None
    fields: dict[str, Any] = {
        "preset": preset, "site_url": args.site_url, "issuer": args.issuer, "client_id": args.client_id,
        "auth_login_url": args.auth_login_url, "auth_token_url": args.auth_token_url, "jwks_url": args.jwks_url,
        "auth_audience": args.auth_audience, "name": args.name,
        "lms": None if preset else args.lms, "auto_activate_deployments": args.auto_activate,
        "options": _options(args.option) or None, "deployment_ids": args.deployment or None,
        "granted_scopes": args.granted_scope, "lti11_secret": _read_secret(args),
    }
    with _session(lti) as s:
        document = management.create_registration(
            s, fields, actor=operator_actor(), require_https=lti.settings.is_production,
            option_checks=lti.option_checks, cipher=lti.cipher,
        )
    tool = lti.tool
    print(f"added registration {document['id']} ({document['issuer']}, client {document['client_id']})")
    print("\n".join(_describe_registration(document)[1:]))
    print("configure the LMS with:")
    print(f"  OIDC login URL (initiate login): {tool.login_url}")
    print(f"  redirect URI / target link URI:  {tool.launch_url}")
    print(f"  public JWKS URL:                 {tool.jwks_url}")
    if document["lms"] == "canvas":
        print(f"  Canvas developer key JSON URL:   {lti.config.public_base_url}/lti/canvas.json")
    return 0


def cmd_list(args: argparse.Namespace, lti: LtiServices) -> int:
    rows: list[dict[str, Any]] = []
    with _session(lti) as s:
        for registration in RegistrationRepository(s).list():
            if args.status and registration.status != args.status:
                continue
            deployments = DeploymentRepository(s).for_registration(registration.id)
            rows.append({
                "id": registration.id, "name": registration.name, "issuer": registration.issuer,
                "client_id": registration.client_id, "lms": registration.lms, "status": registration.status,
                "deployments": {d.deployment_id: d.status for d in deployments},
            })
    if args.json:
        print(json.dumps(rows, indent=2))
    elif not rows:
        print(nothing_listed("registrations"))
    for row in [] if args.json else rows:
        known = ", ".join(f"{k} ({v})" for k, v in row["deployments"].items()) or "none"
        print(f"{row['id']}  {row['issuer']}  client={row['client_id']}  {row['status']}  deployments: {known}")
    return 0


def cmd_show(args: argparse.Namespace, lti: LtiServices) -> int:
    with _session(lti) as s:
        document = management.show_registration(s, args.registration)
        deployments = [management.deployment_document(d)
                       for d in DeploymentRepository(s).for_registration(args.registration)]
        history = list(management.history(s, args.registration))
    full = {**document, "deployments": deployments, "history": history}

    def lines() -> list[str]:
        out = _describe_registration(document)
        out += ["deployments:"] + [f"  {_describe_deployment(d)}" for d in deployments] if deployments else []
        out += ["history (newest first):"] + [
            f"  {h['at']}  {h['actor']}  {h['action']}  {json.dumps(h['details'])}" for h in history
        ]
        return out

    _emit(full, args.json, lines)
    return 0


def cmd_update(args: argparse.Namespace, lti: LtiServices) -> int:
    changes: dict[str, Any] = {
        field: getattr(args, field)
        for field in ("name", "lms", "auth_login_url", "auth_token_url", "auth_audience", "jwks_url")
        if getattr(args, field) is not None
    }
    if args.clear_auth_audience:
        changes["auth_audience"] = None
    if args.auto_activate is not None:
        changes["auto_activate_deployments"] = args.auto_activate
    options: dict[str, Any] = {**_options(args.option), **{key: None for key in args.unset_option or ()}}
    if options:
        changes["options"] = options
    if args.granted_scope is not None or args.clear_granted_scopes:
        changes["granted_scopes"] = None if args.clear_granted_scopes else args.granted_scope
    if args.lti11_secret_stdin or args.clear_lti11_secret:
        changes["lti11_secret"] = None if args.clear_lti11_secret else _read_secret(args)
    if not changes:
        print("error: nothing to change (see `gateway registrations update --help`)", file=sys.stderr)
        return 2
    with _session(lti) as s:
        document = management.update_registration(
            s, args.registration, changes, actor=operator_actor(), require_https=lti.settings.is_production,
            option_checks=lti.option_checks, cipher=lti.cipher,
        )
    _emit(document, args.json, lambda: ["updated", *_describe_registration(document)])
    return 0


def _set_registration_status(status: str) -> Handler:
    def command(args: argparse.Namespace, lti: LtiServices) -> int:
        with _session(lti) as s:
            document = management.set_registration_status(s, args.registration, status, actor=operator_actor())
        _emit(document, args.json, lambda: _describe_registration(document))
        return 0

    return _run(command)


# -- deployments ----------------------------------------------------------------------------------------


def cmd_deployments_list(args: argparse.Namespace, lti: LtiServices) -> int:
    found: list[dict[str, Any]] = []
    with _session(lti) as s:
        cursor: str | None = None
        while True:
            page = management.list_deployments(s, registration_id=args.registration, status=args.status,
                                               cursor=cursor, limit=500)
            found += page.data
            cursor = page.next_cursor
            if cursor is None:
                break
    _emit(found, args.json, lambda: [_describe_deployment(d) for d in found] or [nothing_listed("deployments")])
    return 0


def _set_deployment_status(status: str) -> Handler:
    def command(args: argparse.Namespace, lti: LtiServices) -> int:
        by_platform_id = args.registration is not None and args.deployment_id is not None
        if by_platform_id == (args.deployment is not None):
            print("error: name the deployment by its id (dep_...) or by --registration and --deployment-id",
                  file=sys.stderr)
            return 2
        with _session(lti) as s:
            if by_platform_id and status == "active":
                document = management.approve_by_platform_id(s, args.registration, args.deployment_id,
                                                             actor=operator_actor())
            else:
                ref = args.deployment or management.find_deployment_ref(s, args.registration, args.deployment_id)
                document = management.set_deployment_status(s, ref, status, actor=operator_actor())
        _emit(document, args.json, lambda: [_describe_deployment(document)])
        return 0

    return _run(command)


# -- parser ---------------------------------------------------------------------------------------------


def _migration_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--granted-scope", action="append", metavar="SCOPE",
                        help="a service scope the platform granted the tool (repeatable; e.g. the Names and Roles "
                             "scope .../lti-nrps/scope/contextmembership.readonly)")
    parser.add_argument("--lti11-secret-stdin", action="store_true",
                        help="read the LTI 1.1 shared secret (which signs the 1.1 migration claim) from standard "
                             "input; it is stored encrypted and never shown again")


def _registration_commands(sub: Any, feature: type) -> None:
    registrations = sub.add_parser("registrations", help="LTI platform registrations").add_subparsers(
        dest="registrations_command", required=True
    )
    add = registrations.add_parser(
        "add", help="register an LMS (issuer + client id) and its known deployments",
        description="With --lms set to a preset, give --client-id (and --site-url for moodle and brightspace); "
                    f"presets: {', '.join(PRESETS)}. Explicit endpoint flags override the preset.",
    )
    add.add_argument("--lms", choices=LMS_CHOICES, default="other", help="a preset or an LMS kind")
    add.add_argument("--client-id", required=True)
    add.add_argument("--site-url", help="the LMS's address, for presets whose endpoints live under it")
    add.add_argument("--issuer")
    add.add_argument("--auth-login-url", help="the platform's OIDC authentication endpoint")
    add.add_argument("--auth-token-url")
    add.add_argument("--jwks-url", help="the platform's public key set")
    add.add_argument("--auth-audience", help="token audience when it differs from the token URL (Brightspace)")
    add.add_argument("--name")
    add.add_argument("--deployment", action="append", help="a deployment id to accept (repeatable)")
    add.add_argument("--auto-activate", action="store_true", help="accept new deployments without approval")
    add.add_argument("--option", action="append", metavar="KEY=VALUE", help="a registration option (repeatable)")
    _migration_arguments(add)
    add.set_defaults(handler=_run(cmd_add), feature=feature)

    listing = registrations.add_parser("list", help="list registrations and their deployments")
    listing.add_argument("--status", choices=REGISTRATION_STATUSES)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_run(cmd_list), feature=feature)

    show = registrations.add_parser("show", help="one registration, its deployments and its audit history")
    show.add_argument("registration", help="the registration id (reg_...)")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_run(cmd_show), feature=feature)

    update = registrations.add_parser("update", help="change a registration (issuer and client id stay)")
    update.add_argument("registration", help="the registration id (reg_...)")
    update.add_argument("--name")
    update.add_argument("--lms", choices=LMS_KINDS)
    update.add_argument("--auth-login-url")
    update.add_argument("--auth-token-url")
    update.add_argument("--auth-audience")
    update.add_argument("--clear-auth-audience", action="store_true", help="use the token URL as audience again")
    update.add_argument("--jwks-url")
    update.add_argument("--auto-activate", action=argparse.BooleanOptionalAction, default=None,
                        help="accept new deployments without approval (or not)")
    update.add_argument("--option", action="append", metavar="KEY=VALUE", help="set an option (repeatable)")
    update.add_argument("--unset-option", action="append", metavar="KEY", help="remove an option (repeatable)")
    _migration_arguments(update)
    update.add_argument("--clear-granted-scopes", action="store_true",
                        help="forget the granted scopes (the launches' service claims decide again)")
    update.add_argument("--clear-lti11-secret", action="store_true", help="remove the LTI 1.1 secret")
    update.add_argument("--json", action="store_true")
    update.set_defaults(handler=_run(cmd_update), feature=feature)

    for verb, status, text in (("disable", "disabled", "refuse every launch of a registration"),
                               ("enable", "active", "accept launches of a disabled registration again")):
        command = registrations.add_parser(verb, help=text)
        command.add_argument("registration", help="the registration id (reg_...)")
        command.add_argument("--json", action="store_true")
        command.set_defaults(handler=_set_registration_status(status), feature=feature)


def _deployment_commands(sub: Any, feature: type) -> None:
    deployments = sub.add_parser("deployments", help="LTI deployments (installs) of registrations").add_subparsers(
        dest="deployments_command", required=True
    )
    listing = deployments.add_parser("list", help="list deployments (e.g. --status pending to see what waits)")
    listing.add_argument("--registration", help="only this registration's (reg_...)")
    listing.add_argument("--status", choices=DEPLOYMENT_STATUSES)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_run(cmd_deployments_list), feature=feature)
    for verb, status, text in (
        ("approve", "active", "accept a deployment's launches (with --registration/--deployment-id: even unseen)"),
        ("disable", "disabled", "refuse a deployment's launches"),
    ):
        command = deployments.add_parser(verb, help=text)
        command.add_argument("deployment", nargs="?", help="the gateway's deployment id (dep_...)")
        command.add_argument("--registration", help="with --deployment-id: the registration (reg_...)")
        command.add_argument("--deployment-id", help="the platform's deployment id")
        command.add_argument("--json", action="store_true")
        command.set_defaults(handler=_set_deployment_status(status), feature=feature)


def register(sub: Any, feature: type) -> None:
    _registration_commands(sub, feature)
    _deployment_commands(sub, feature)
