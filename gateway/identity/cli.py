"""``gateway identity ...``: read a user's identities, link, unlink, review conflicts and unmatched identities,
link deployments to Clever districts, and set a registration's matching rules. Audited as actor ``cli``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from gateway.errors import GatewayError
from gateway.feature import nothing_listed
from gateway.identity.admin import CONFLICT_STATUSES, UNMATCHED_STATUSES, IdentityAdmin, require_reason
from gateway.identity.rules import BOOL_KEYS, KEYS, RuleInvalid
from gateway.identity.service import IdentityServices

ACTOR = "cli"


def _emit(data: Any, as_json: bool, what: str = "") -> None:
    """JSON when asked, else one ``key=value`` line a row; an empty list of ``what`` says so."""
    if as_json:
        print(json.dumps(data, indent=2))
        return
    if what and not data:
        print(nothing_listed(what))
    for row in data if isinstance(data, list) else [data]:
        print("  ".join(f"{k}={v}" for k, v in row.items() if not isinstance(v, dict | list)))


def _run(identity: IdentityServices, work: Callable[[IdentityAdmin, Session], Any]) -> tuple[int, Any]:
    """Run one unit of work; a refusal prints its code and exits 1."""
    try:
        with identity.db.transaction() as s:
            return 0, work(identity.admin, s)
    except GatewayError as e:
        print(f"error: {e.code}: {e.message}", file=sys.stderr)
        return 1, None
    except RuleInvalid as e:
        print(f"error: {e}", file=sys.stderr)
        return 1, None


def _all_pages(fetch: Callable[[str | None], tuple[list[dict[str, Any]], str | None]]) -> list[dict[str, Any]]:
    rows, cursor = fetch(None)
    while cursor:
        more, cursor = fetch(cursor)
        rows.extend(more)
    return rows


def cmd_show(args: argparse.Namespace, identity: IdentityServices) -> int:
    code, view = _run(identity, lambda a, s: a.user_view(s, a.resolve_ref(s, args.ref)))
    if code == 0:
        if args.json:
            _emit(view, True)
        else:
            _emit({k: v for k, v in view.items() if k != "lti_identities"}, False)
            for i in view["lti_identities"]:
                match = i["match"] or {}
                print(f"  lti_identity={i['id']}  registration={i['registration']}  sub={i['sub']}  "
                      f"match={match.get('status')}  method={match.get('method')}")
            for c in view["open_conflicts"]:
                print(f"  conflict={c['id']}  kind={c['kind']}  clever_user_ids={','.join(c['clever_user_ids'])}")
    return code


def cmd_link(args: argparse.Namespace, identity: IdentityServices) -> int:
    reason = _reason(args.reason)
    code, view = _run(identity, lambda a, s: a.link(s, args.lti_identity_id, args.clever_user_id, reason=reason,
                                                    actor=ACTOR))
    if code == 0:
        _emit({"user_id": view["user_id"], "clever_user_id": view["clever_user_id"]}, args.json)
    return code


def cmd_unlink(args: argparse.Namespace, identity: IdentityServices) -> int:
    reason = _reason(args.reason)
    code, view = _run(identity, lambda a, s: a.unlink(s, args.lti_identity_id, reason=reason, actor=ACTOR))
    if code == 0:
        _emit({"lti_identity_id": args.lti_identity_id, "user_id": view["user_id"]}, args.json)
    return code


def cmd_conflicts(args: argparse.Namespace, identity: IdentityServices) -> int:
    status = None if args.status == "all" else args.status
    code, rows = _run(identity, lambda a, s: _all_pages(lambda c: a.conflicts(s, status, c, 500)))
    if code == 0:
        _emit(rows if args.json else [
            {k: (",".join(v) if isinstance(v, list) else v) for k, v in r.items()
             if k in ("id", "kind", "status", "lti_identity_id", "user_id", "method", "clever_user_ids", "count")}
            for r in rows], args.json, "conflicts")
    return code


def cmd_resolve(args: argparse.Namespace, identity: IdentityServices) -> int:
    reason = _reason(args.reason)
    code, view = _run(identity, lambda a, s: a.resolve_conflict(s, args.conflict_id, reason=reason, actor=ACTOR))
    if code == 0:
        _emit({"id": view["id"], "status": view["status"]}, args.json)
    return code


def cmd_unmatched(args: argparse.Namespace, identity: IdentityServices) -> int:
    statuses = args.status or list(UNMATCHED_STATUSES)
    code, rows = _run(identity, lambda a, s: _all_pages(lambda c: a.unmatched(
        s, statuses, district_id=args.district_id, registration_id=args.registration, cursor=c, limit=500)))
    if code == 0:
        _emit(rows, args.json, "unmatched launches")
    return code


def cmd_deployments(args: argparse.Namespace, identity: IdentityServices) -> int:
    code, rows = _run(identity, lambda a, s: _all_pages(lambda c: a.deployments(s, c, 500)))
    if code == 0:
        _emit(rows, args.json, "deployments")
    return code


def cmd_link_district(args: argparse.Namespace, identity: IdentityServices) -> int:
    reason = _reason(args.reason)
    district = getattr(args, "district_id", None)
    code, view = _run(identity, lambda a, s: a.set_deployment_district(s, args.deployment_ref, district,
                                                                       reason=reason, actor=ACTOR))
    if code == 0:
        _emit(view, args.json)
    return code


def _value(raw: str) -> Any:
    lowered = raw.lower()
    if lowered in ("true", "on", "yes"):
        return True
    if lowered in ("false", "off", "no"):
        return False
    return None if lowered in ("", "none", "null") else raw


def cmd_rules(args: argparse.Namespace, identity: IdentityServices) -> int:
    changes: dict[str, Any] = {}
    for item in args.set or ():
        key, sep, raw = item.partition("=")
        if not sep:
            print(f"error: --set takes key=value (keys: {', '.join(KEYS)})", file=sys.stderr)
            return 2
        value = _value(raw)
        changes[key] = value if key in BOOL_KEYS or value is None else raw
    code, view = _run(identity, lambda a, s: a.set_rules(s, args.registration_id, changes, actor=ACTOR)
                      if changes else a.rules(s, args.registration_id))
    if code == 0:
        _emit(view, args.json)
    return code


def _reason(raw: str) -> str:
    try:
        return require_reason(raw)
    except GatewayError:
        print("error: --reason is required (1 to 500 characters)", file=sys.stderr)
        raise SystemExit(2) from None


def register(sub: Any, feature: type) -> None:
    identity = sub.add_parser("identity", help="LMS user <-> Clever user links, conflicts, deployment districts")
    cmds = identity.add_subparsers(dest="identity_command", required=True)

    def command(name: str, handler: Callable[[argparse.Namespace, IdentityServices], int], help_text: str,
                *, reason: bool = False) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = cmds.add_parser(name, help=help_text)
        parser.add_argument("--json", action="store_true")
        if reason:
            parser.add_argument("--reason", required=True, help="why (kept in the audit log)")
        parser.set_defaults(handler=handler, feature=feature)
        return parser

    command("show", cmd_show, "a user's Clever id and LTI identities (a usr_ or lid_ id)").add_argument("ref")
    link = command("link", cmd_link, "link an LTI identity to a Clever user id", reason=True)
    link.add_argument("lti_identity_id")
    link.add_argument("clever_user_id")
    command("unlink", cmd_unlink, "unlink an LTI identity from its Clever id", reason=True).add_argument(
        "lti_identity_id")
    conflicts = command("conflicts", cmd_conflicts, "list identity conflicts")
    conflicts.add_argument("--status", choices=(*CONFLICT_STATUSES, "all"), default="open")
    command("resolve-conflict", cmd_resolve, "close a conflict without linking", reason=True).add_argument(
        "conflict_id")
    unmatched = command("unmatched", cmd_unmatched, "list LTI identities without a Clever link")
    unmatched.add_argument("--status", action="append", choices=UNMATCHED_STATUSES)
    unmatched.add_argument("--district-id")
    unmatched.add_argument("--registration")
    command("deployments", cmd_deployments, "list LTI deployments and their Clever districts")
    link_district = command("link-district", cmd_link_district, "link a deployment to a Clever district",
                            reason=True)
    link_district.add_argument("deployment_ref")
    link_district.add_argument("district_id")
    command("unlink-district", cmd_link_district, "unlink a deployment from its Clever district",
            reason=True).add_argument("deployment_ref")
    rules = command("rules", cmd_rules, "show or set a registration's matching rules")
    rules.add_argument("registration_id")
    rules.add_argument("--set", action="append", metavar="KEY=VALUE", help=f"keys: {', '.join(KEYS)}")
