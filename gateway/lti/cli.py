"""``gateway registrations add | list``: the minimum to connect an LMS by hand (issue 4 adds full management)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError

from gateway.bootstrap import bootstrap
from gateway.lti.registrations import LMS_KINDS, RegistrationExists, add_registration
from gateway.settings import Settings
from gateway.store.repositories.lti_registrations import DeploymentRepository, RegistrationRepository

Handler = Callable[[argparse.Namespace, Settings], int]


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    services = bootstrap(settings)
    try:
        registration = add_registration(
            services.db,
            issuer=args.issuer,
            client_id=args.client_id,
            auth_login_url=args.auth_login_url,
            auth_token_url=args.auth_token_url,
            jwks_url=args.jwks_url,
            auth_audience=args.auth_audience,
            name=args.name,
            lms=args.lms,
            auto_activate_deployments=args.auto_activate,
            deployment_ids=tuple(args.deployment or ()),
            actor="cli",
        )
    except (RegistrationExists, IntegrityError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        services.close()
    config = services.lti.config
    print(f"added registration {registration.id} ({registration.issuer}, client {registration.client_id})")
    print("configure the LMS with:")
    print(f"  OIDC login URL (initiate login): {config.login_url}")
    print(f"  redirect URI / target link URI:  {config.launch_url}")
    print(f"  public JWKS URL:                 {config.jwks_url}")
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    services = bootstrap(settings)
    rows: list[dict[str, Any]] = []
    with services.db.transaction() as s:
        for registration in RegistrationRepository(s).list():
            deployments = DeploymentRepository(s).for_registration(registration.id)
            rows.append({
                "id": registration.id, "name": registration.name, "issuer": registration.issuer,
                "client_id": registration.client_id, "lms": registration.lms, "status": registration.status,
                "deployments": {d.deployment_id: d.status for d in deployments},
            })
    services.close()
    if args.json:
        print(json.dumps(rows, indent=2))
    for row in [] if args.json else rows:
        known = ", ".join(f"{k} ({v})" for k, v in row["deployments"].items()) or "none"
        print(f"{row['id']}  {row['issuer']}  client={row['client_id']}  {row['status']}  deployments: {known}")
    return 0


def register(sub: Any) -> None:
    registrations = sub.add_parser("registrations", help="LTI platform registrations").add_subparsers(
        dest="registrations_command", required=True
    )
    add = registrations.add_parser("add", help="register an LMS (issuer + client id) and its known deployments")
    add.add_argument("--issuer", required=True)
    add.add_argument("--client-id", required=True)
    add.add_argument("--auth-login-url", required=True, help="the platform's OIDC authentication endpoint")
    add.add_argument("--auth-token-url", required=True)
    add.add_argument("--jwks-url", required=True, help="the platform's public key set")
    add.add_argument("--auth-audience", help="token audience when it differs from the token URL (Brightspace)")
    add.add_argument("--name")
    add.add_argument("--lms", choices=LMS_KINDS, default="other")
    add.add_argument("--deployment", action="append", help="a deployment id to accept (repeatable)")
    add.add_argument("--auto-activate", action="store_true", help="accept new deployments without approval")
    add.set_defaults(handler=cmd_add)
    listing = registrations.add_parser("list", help="list registrations and their deployments")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_list)
