"""Rate limits on the routes anyone can call and on failed credentials, with Flask-Limiter.

Limited per client address (the connecting address, or the one ``GATEWAY_TRUSTED_PROXY_HOPS`` proxies in front
report in ``X-Forwarded-For``):

* ``/lti/register`` (``GATEWAY_RATE_LIMIT_LTI_REGISTER``), ``/lti/login`` and ``/lti/launch``
  (``GATEWAY_RATE_LIMIT_LTI_LAUNCH``, shared), every ``/clever/*`` page (``GATEWAY_RATE_LIMIT_CLEVER``);
* failed API-key authentication on every ``/api/`` route (``GATEWAY_RATE_LIMIT_API_AUTH_FAILURES``): only a
  401 counts, but once the limit is reached every request from that address waits;
* failed hand-off code redemptions (``GATEWAY_RATE_LIMIT_REDEEM_FAILURES``): a 4xx other than 429 counts;
* sign-in attempts to the operator console (``GATEWAY_RATE_LIMIT_CONSOLE_SIGN_IN``): every attempt counts.

Counters live in ``GATEWAY_RATE_LIMIT_STORAGE_URI``: ``memory://`` (the default: each process counts alone, right
for the embedded single process) or ``redis://host:port/db`` so that every replica and gunicorn worker counts
together. A refusal is ``429 RATE_LIMITED`` with ``Retry-After``: problem+json for the API, a page for people.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Flask, Response
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import parse_many
from werkzeug.middleware.proxy_fix import ProxyFix

from gateway.api.problems import render_error
from gateway.errors import GatewayError
from gateway.settings import Settings, SettingsError, collect, raise_problems

STORAGE_SCHEMES = ("memory://", "redis://", "rediss://", "redis+sentinel://", "redis+cluster://")
LIMITER = "gateway.limiter"


class RateLimited(GatewayError):
    code = "RATE_LIMITED"
    status = 429
    title = "Too many requests"
    default_hint = "Wait for the number of seconds in Retry-After, then try again."


def check_limit(settings: Settings, field_name: str) -> str:
    """A limit in Flask-Limiter's notation, e.g. ``10/minute`` or ``5 per minute;100 per day``."""
    value = str(getattr(settings, field_name))
    try:
        if not parse_many(value):
            raise ValueError(value)
    except ValueError as e:
        raise SettingsError(settings.env_name(field_name), "must be a rate limit such as 10/minute") from e
    return value


def check_storage(settings: Settings) -> str:
    uri = settings.rate_limit_storage_uri
    if not uri.startswith(STORAGE_SCHEMES):
        raise SettingsError("GATEWAY_RATE_LIMIT_STORAGE_URI", f"must start with one of {', '.join(STORAGE_SCHEMES)}")
    return uri


LIMIT_NAMES = ("lti_register", "lti_launch", "clever", "api_auth_failures", "redeem_failures", "console_sign_in")


def check_rate_limit_settings(settings: Settings) -> None:
    """Every rate-limit setting, each refusal named (start-up runs this before any process serves)."""
    raise_problems(collect(lambda: check_storage(settings),
                           *(partial(check_limit, settings, f"rate_limit_{name}") for name in LIMIT_NAMES)))


def install_rate_limits(app: Flask, settings: Settings) -> Limiter:
    """Put the limits on the app's routes (after the blueprints are registered): one place, no view module edited."""
    storage = check_storage(settings)
    limits = {name: check_limit(settings, f"rate_limit_{name}") for name in LIMIT_NAMES}
    if settings.trusted_proxy_hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxy_hops)  # type: ignore[method-assign]
    limiter = Limiter(get_remote_address, app=app, storage_uri=storage, strategy="moving-window",
                      headers_enabled=False, key_prefix="gateway", enabled=settings.rate_limits_enabled)
    app.extensions[LIMITER] = limiter
    views = app.view_functions

    def mark(endpoint: str, decorator: Callable[[Any], Any]) -> None:
        if endpoint in views:
            # Flask-Limiter checks a decorated view's limits when the view is called: wrap it in place.
            views[endpoint] = decorator(views[endpoint])

    mark("lti_registration.register", limiter.limit(limits["lti_register"], scope="lti-register"))
    lti_launch = limiter.shared_limit(limits["lti_launch"], scope="lti-launch")
    mark("lti.login", lti_launch)
    mark("lti.launch", lti_launch)
    for endpoint, rule in _rules(app):
        if rule.startswith("/clever/"):
            mark(endpoint, limiter.shared_limit(limits["clever"], scope="clever"))
        if rule.startswith("/api/"):
            mark(endpoint, limiter.shared_limit(limits["api_auth_failures"], scope="api-auth-failures",
                                                deduct_when=lambda r: r.status_code == 401))
    mark("handoff.redeem", limiter.limit(limits["redeem_failures"], scope="redeem-failures",
                                         deduct_when=lambda r: 400 <= r.status_code < 500 and r.status_code != 429))
    # Every sign-in attempt to the operator console counts, good or bad (guessing is the attack); so does every
    # password change (it checks the current password too), against the same budget.
    console_passwords = limiter.shared_limit(limits["console_sign_in"], scope="console-sign-in")
    mark("console.sign_in", console_passwords)
    mark("console.change_password", console_passwords)
    app.register_error_handler(RateLimitExceeded, _rate_limited)
    return limiter


def _rules(app: Flask) -> list[tuple[str, str]]:
    return sorted({(rule.endpoint, rule.rule) for rule in app.url_map.iter_rules()})


def _rate_limited(error: RateLimitExceeded) -> Response:
    from flask import current_app

    limiter: Limiter = current_app.extensions[LIMITER]
    wait = 60
    current = limiter.current_limit
    if current is not None:
        wait = max(1, current.reset_at - int(time.time()))
    return render_error(RateLimited(f"Too many requests from this address: at most {error.description}.",
                                    headers={"Retry-After": str(wait)}))
