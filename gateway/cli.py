"""The ``gateway`` command: serve, worker and database migrations here; every feature adds its own commands.

Each sub-command builds services through :func:`gateway.bootstrap.bootstrap`, so the CLI sees exactly the
configuration the server sees. A feature's command handler gets that feature's services
(:func:`gateway.feature.add_command`).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType

from sqlalchemy.exc import SQLAlchemyError

from gateway.bootstrap import FEATURES, Services, bootstrap, build_worker, check_settings
from gateway.ops.logs import configure_logging
from gateway.settings import Settings, SettingsError, load_settings
from gateway.store import database_error_line

# Exit codes beside argparse's 2: settings refused, database unreachable or refusing.
EXIT_SETTINGS = 3
EXIT_DATABASE = 4

RootHandler = Callable[[argparse.Namespace, Settings], int]


def _with_services(settings: Settings, work: Callable[[Services], int]) -> int:
    services = bootstrap(settings)
    try:
        return work(services)
    finally:
        services.close()


# -- serve -----------------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.app import create_app
    from gateway.serve import run_server

    # main() has checked every setting here, in the parent: a gunicorn worker that refused one would say only
    # "Worker failed to boot".
    if settings.is_dev or args.migrate:
        migrate = bootstrap(settings)
        try:
            migrate.db.upgrade()
        finally:
            migrate.close()
    host, port = args.host or settings.host, args.port or settings.port
    print(start_banner(settings, host, port), file=sys.stderr, flush=True)
    run_server(create_app, settings, host=host, port=port, workers=args.workers, threads=args.threads)
    return 0


def start_banner(settings: Settings, host: str, port: int) -> str:
    """Where to point a browser: in dev, the sandbox's landing page at the public base URL."""
    listening = f"gateway: serving on http://{host}:{port} ({settings.env})"
    if not settings.is_dev:
        return listening
    base = settings.public_base_url.rstrip("/")
    return (f"{listening}\n"
            f"gateway: open {base}/ for the sandbox (simulated LMS and Clever, vendor page, API reference at "
            f"{base}/docs/api)")


# -- worker ----------------------------------------------------------------------------------------


def run_worker(services: Services, *, concurrency: int | None = None, metrics_port: int | None = None,
               metrics_host: str = "127.0.0.1") -> int:
    """Run one worker in this process until SIGTERM or SIGINT; in-flight work finishes first. Returns 0."""
    configure_logging(services.settings.log_level)
    if not services.db.migrations_current():
        print("gateway worker: the database is not migrated; run `gateway db upgrade` first", file=sys.stderr)
        return 1
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, metrics_host, registry=services.metrics.registry)
    worker = build_worker(services, concurrency=concurrency)
    if not services.delivery_backends:
        print("gateway worker: no delivery backends are configured; running periodic jobs only", file=sys.stderr)
    requested: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        # Only note it: taking locks inside a signal handler can deadlock the thread it interrupted.
        requested.append(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    thread = threading.Thread(target=worker.run, name="worker")
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.1)
            if requested and not worker.stopping:
                worker.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    return _with_services(settings, lambda services: run_worker(
        services, concurrency=args.concurrency, metrics_port=args.metrics_port, metrics_host=args.metrics_host))


# -- db --------------------------------------------------------------------------------------------


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    def upgrade(services: Services) -> int:
        services.db.upgrade(args.revision)
        print(f"database at revision(s): {', '.join(sorted(services.db.current_revisions()))}")
        return 0

    return _with_services(settings, upgrade)


def cmd_db_current(args: argparse.Namespace, settings: Settings) -> int:
    def current(services: Services) -> int:
        now, heads = services.db.current_revisions(), services.db.migration_heads()
        print(f"current: {', '.join(sorted(now)) or '(empty)'}; heads: {', '.join(sorted(heads))}")
        return 0 if now == heads else 1

    return _with_services(settings, current)


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
    serve.set_defaults(root_handler=cmd_serve, serving=True)

    worker = sub.add_parser("worker", help="deliver the outbox and run periodic jobs (SIGTERM finishes in-flight)")
    worker.add_argument("--concurrency", type=int, default=None,
                        help="delivery threads (default GATEWAY_WRITEBACK_CONCURRENCY)")
    worker.add_argument("--metrics-port", type=int, default=None, help="serve Prometheus metrics on this port")
    worker.add_argument("--metrics-host", default="127.0.0.1")
    worker.set_defaults(root_handler=cmd_worker, serving=True)

    db = sub.add_parser("db", help="database migrations").add_subparsers(dest="db_command", required=True)
    up = db.add_parser("upgrade", help="apply migrations")
    up.add_argument("revision", nargs="?", default="heads")
    up.set_defaults(root_handler=cmd_db_upgrade)
    db.add_parser("current", help="exit 0 when migrations are current").set_defaults(root_handler=cmd_db_current)

    for feature in FEATURES:
        feature.register_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. A refused setting or a database failure ends in one line each on stderr (no traceback):
    exit 3 lists every refused setting, exit 4 names the database (without its password) and the cause."""
    args = build_parser().parse_args(argv)
    settings: Settings | None = None
    try:
        settings = load_settings()
        # serve and worker also meet production's refusals; every command meets the features' own checks.
        check_settings(settings, serving=getattr(args, "serving", False))
        root_handler: RootHandler | None = getattr(args, "root_handler", None)
        if root_handler is not None:
            return root_handler(args, settings)
        return _with_services(settings, lambda services: args.handler(args, services.get(args.feature).services))
    except SettingsError as e:
        print(refusal_message(e), file=sys.stderr)
        return EXIT_SETTINGS
    except SQLAlchemyError as e:
        url = settings.database_url if settings is not None else "?"
        print(f"gateway: {database_error_line(url, e)}", file=sys.stderr)
        return EXIT_DATABASE


def refusal_message(error: SettingsError) -> str:
    """``gateway: refusing to start: GATEWAY_X: why`` for one refusal; a count and one line each for several."""
    problems = error.problems
    if len(problems) == 1:
        return f"gateway: refusing to start: {problems[0]}"
    return "\n".join([f"gateway: refusing to start: {len(problems)} settings refused:",
                      *(f"  {p}" for p in problems)])


if __name__ == "__main__":
    sys.exit(main())
