"""Vendor API basics against `gateway serve` on SQLite: key authentication and hand-off redemption."""

from __future__ import annotations

import threading

import requests

from bench.harness import Result, run
from bench.server import served_gateway
from gateway.bootstrap import bootstrap
from gateway.settings import load_settings


def main(total: int = 2000) -> list[Result]:
    results = []
    with served_gateway() as gw:
        key = gw.api_key("launches")
        local = threading.local()

        def session() -> requests.Session:
            if not hasattr(local, "s"):
                local.s = requests.Session()
                local.s.headers["Authorization"] = f"Bearer {key}"
            s: requests.Session = local.s
            return s

        results.append(run("api whoami (auth only)", lambda _: _ok(session().get(f"{gw.url}/api/v1/whoami")),
                           total=total))
        # Issue codes straight into the served database (as a launch would) so only redemption is timed.
        settings = load_settings(environ=gw.env, database_url=f"sqlite:///{gw.workdir}/var/gateway.db")
        services = bootstrap(settings)
        with services.db.transaction() as db_session:
            codes = [services.handoff.issue(db_session, "lti", {"user": {"id": str(i)}}, user_id=None).code
                     for i in range(total)]
        services.close()
        results.append(run(
            "api launches/redeem",
            lambda i: _ok(session().post(f"{gw.url}/api/v1/launches/redeem", json={"code": codes[i]})),
            total=total,
        ))
    return results


def _ok(response: requests.Response) -> None:
    if response.status_code != 200:
        raise RuntimeError(f"unexpected {response.status_code}: {response.text[:200]}")
