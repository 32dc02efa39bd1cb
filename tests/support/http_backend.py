"""A delivery backend for tests: posts each delivery to a :class:`~tests.support.flaky_remote.FlakyRemote`.

It stands in for the remote system (the LMS, Clever), not for the gateway: it sends
through the gateway's own ``HttpClient`` and judges answers with the gateway's own
classification, exactly as the AGS and Clever backends do.

Run as a module, it is a real worker or server process for crash tests, configured by
``GATEWAY_*`` variables like ``gateway worker``/``gateway serve``, with this backend
registered as ``test``::

    python -m tests.support.http_backend worker --remote URL [--concurrency N]
    python -m tests.support.http_backend serve --remote URL --port P
"""

from __future__ import annotations

import argparse
import sys

from gateway.bootstrap import Services, bootstrap
from gateway.http import HttpClient, OutboundError
from gateway.settings import Settings, load_settings
from gateway.writeback.backends import Delivery, DeliveryResult
from gateway.writeback.classify import classify_outbound_error, classify_response

BACKEND = "test"


class HttpTestBackend:
    def __init__(self, http: HttpClient, remote_url: str, timeout: float | None = None) -> None:
        self._http = http
        self._url = remote_url.rstrip("/") + "/deliveries"
        self._timeout = timeout

    def deliver(self, delivery: Delivery) -> DeliveryResult:
        body = {"id": delivery.id, "attempt": delivery.attempt, "payload": delivery.payload}
        try:
            response = self._http.request("test-remote", "POST", self._url, json=body, timeout=self._timeout)
        except OutboundError as e:
            return classify_outbound_error(e)
        return classify_response(response)


def with_test_backend(services: Services, remote_url: str) -> Services:
    services.delivery_backends[BACKEND] = HttpTestBackend(services.http, remote_url)
    return services


def _serve(settings: Settings, remote_url: str, port: int) -> int:
    from gateway.app import create_app
    from gateway.serve import run_server

    def factory(s: Settings):  # type: ignore[no-untyped-def]  # gunicorn calls it; Flask typing not needed
        return create_app(services=with_test_backend(bootstrap(s), remote_url))

    run_server(factory, settings, host="127.0.0.1", port=port, workers=1, threads=4)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tests.support.http_backend")
    parser.add_argument("mode", choices=["worker", "serve"])
    parser.add_argument("--remote", required=True)
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    settings = load_settings()
    if args.mode == "serve":
        return _serve(settings, args.remote, args.port)
    from gateway.cli import run_worker

    services = with_test_backend(bootstrap(settings), args.remote)
    try:
        return run_worker(services, concurrency=args.concurrency)
    finally:
        services.close()


if __name__ == "__main__":
    sys.exit(main())
