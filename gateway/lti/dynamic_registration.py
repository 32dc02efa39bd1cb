"""LTI Dynamic Registration (lti-dr v1p0): an LMS administrator pastes one URL, the tool does the rest.

The platform opens ``/lti/register?openid_configuration=<url>&registration_token=<token>``. The gateway

1. checks the configuration URL (absolute, https outside dev and test, an allowed host when a list is set);
2. reads the platform's OpenID configuration through its HTTP client (timeout, no redirects, size cap), with
   the registration token as Bearer (Canvas guards the document with it), and checks it: the members a tool
   needs, an ``issuer`` and a ``registration_endpoint`` on the host that served the document (so a page
   cannot register itself as somebody else's LMS, nor send the gateway, token in hand, to a second host);
3. posts its tool configuration (:func:`gateway.lti.tool_config.tool_configuration`) to the platform's
   ``registration_endpoint`` with the token as Bearer;
4. stores the registration and the deployment from the answer (``client_id``; ``deployment_id`` in the
   tool-configuration member) with an audit entry, all in one transaction.

``/lti/register`` is public, so the URLs it fetches are chosen by whoever opens it. In production both
outbound calls go only to hosts whose every resolved address is public (:func:`address_refused`): no
loopback, private, link-local or reserved targets. A failed call is reported with one code and a fixed
message (the detail goes to the log only), so the page cannot be used to probe ports.

In ``pending`` mode (the default) the registration is stored ``disabled`` and its deployment ``pending``,
because anyone who can serve an OpenID configuration can walk through steps 1-3: an administrator enables
the registration (``gateway registrations enable``) and approves the deployment before its launches count.
Every refusal raises an :class:`~gateway.lti.errors.LtiError` with a stable code and stores nothing.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from dataclasses import dataclass, replace
from html import escape
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from prometheus_client import Counter
from sqlalchemy.exc import IntegrityError

import gateway.lti.claims as c
import gateway.lti.errors as errors
from gateway.http import HttpClient, OutboundError, address_refused
from gateway.lti.config import DrConfig
from gateway.lti.management import set_registration_status
from gateway.lti.registrations import Deployment, Registration, RegistrationExists, add_registration
from gateway.lti.tool_config import ToolProfile, tool_configuration
from gateway.ops.logs import log_event
from gateway.ops.metrics import Metrics
from gateway.store import Database
from gateway.store.repositories.lti_registrations import DeploymentRepository

log = logging.getLogger("gateway.lti.dynamic_registration")
SYSTEM = "lti_registration"
ACTOR = "lti-dynamic-registration"
MAX_DOCUMENT_BYTES = 256 * 1024
CLOSE_SUBJECT = "org.imsglobal.lti.close"
REQUIRED_MEMBERS = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint")

# product_family_code (lti-platform-configuration) -> the gateway's LMS kind.
PRODUCT_FAMILIES = {
    "canvas": "canvas",
    "moodle": "moodle",
    "desire2learn": "brightspace",
    "brightspace": "brightspace",
    "d2l": "brightspace",
    "blackboard": "blackboard",
    "blackboardlearn": "blackboard",
    "schoology": "schoology",
    "sandbox": "sandbox",
}


@dataclass(frozen=True)
class PlatformConfiguration:
    """The members of the platform's OpenID configuration that the gateway uses, checked."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    authorization_server: str | None
    product_family_code: str | None

    @property
    def lms(self) -> str:
        return PRODUCT_FAMILIES.get((self.product_family_code or "").lower(), "other")


@dataclass(frozen=True)
class Registered:
    registration: Registration
    deployment: Deployment | None
    platform: PlatformConfiguration


def _url_problem(url: str, *, require_https: bool) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return "is not a URL"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "is not an absolute http(s) URL"
    if require_https and parts.scheme != "https":
        return "must use https"
    if parts.username or parts.password or parts.fragment:
        return "must carry no credentials or fragment"
    return None


def check_public_host(url: str) -> None:
    """Refuse a URL whose host does not resolve, or resolves to any address :func:`address_refused` refuses.

    Every address counts: a name with one public and one private address could be answered with either.
    A name that does not resolve gets the same code, so the page does not tell which internal names exist.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError, UnicodeError) as e:
        log_event(log, logging.WARNING, "lti dynamic registration host does not resolve", host=host[:255])
        raise errors.DrAddressNotAllowed() from e
    addresses = {str(info[4][0]) for info in infos}
    refused = sorted(a for a in addresses if address_refused(a))
    if not addresses or refused:
        log_event(log, logging.WARNING, "lti dynamic registration refused an internal address", host=host[:255],
                  addresses=refused)
        raise errors.DrAddressNotAllowed()


def _origin(url: str) -> str:
    """``host:port`` (the scheme's port when none is written): a different port is a different server."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = 0
    return f"{(parts.hostname or '').lower()}:{port}"


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def check_platform_configuration(config_url: str, document: Any, *, require_https: bool) -> PlatformConfiguration:
    """The platform's OpenID configuration, checked (lti-dr v1p0 §3.4, §3.5), or the refusal."""
    if not isinstance(document, dict):
        raise errors.DrConfigInvalid("The LMS configuration is not a JSON object.")
    missing = [m for m in REQUIRED_MEMBERS if not isinstance(document.get(m), str) or not document[m]]
    if missing:
        raise errors.DrConfigInvalid(f"The LMS configuration lacks {', '.join(missing)}.")
    for member in REQUIRED_MEMBERS:
        problem = _url_problem(document[member], require_https=require_https)
        if problem:
            raise errors.DrConfigInvalid(f"The LMS configuration's {member} {problem}.")
    issuer_host = (urlsplit(document["issuer"]).hostname or "").lower()
    config_host = (urlsplit(config_url).hostname or "").lower()
    if issuer_host != config_host:
        raise errors.DrIssuerHostMismatch(
            f"The configuration from {config_host} names the issuer host {issuer_host}."
        )
    # The registration token goes to registration_endpoint: only to the server (host and port) that served the
    # configuration; another port on the same host can be another program.
    endpoint_origin, config_origin = _origin(document["registration_endpoint"]), _origin(config_url)
    if endpoint_origin != config_origin:
        raise errors.DrEndpointHostMismatch(
            f"The configuration from {config_origin} names a registration endpoint on {endpoint_origin}."
        )
    methods = document.get("token_endpoint_auth_methods_supported")
    if isinstance(methods, list) and "private_key_jwt" not in methods:
        raise errors.DrConfigInvalid("The LMS does not accept private_key_jwt client authentication.")
    lti = document.get(c.PLATFORM_CONFIGURATION)
    if not isinstance(lti, dict) or not isinstance(lti.get("product_family_code"), str):
        raise errors.DrConfigInvalid(f"The LMS configuration lacks {c.PLATFORM_CONFIGURATION}.product_family_code.")
    server = document.get("authorization_server")
    return PlatformConfiguration(
        issuer=document["issuer"],
        authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"],
        jwks_uri=document["jwks_uri"],
        registration_endpoint=document["registration_endpoint"],
        authorization_server=server if isinstance(server, str) and server else None,
        product_family_code=lti["product_family_code"],
    )


def deployment_id_from(answer: dict[str, Any]) -> str | None:
    """The deployment the platform made, from its registration answer (Moodle sends it; Canvas may not)."""
    lti = answer.get(c.TOOL_CONFIGURATION)
    found = lti.get("deployment_id") if isinstance(lti, dict) else None
    found = found if found is not None else answer.get("deployment_id")
    if isinstance(found, int) and not isinstance(found, bool):
        found = str(found)  # Moodle's deployment ids are tool type numbers
    return found if isinstance(found, str) and 0 < len(found) <= 255 else None


def granted_scopes(answer: dict[str, Any]) -> list[str] | None:
    """The scopes the platform granted, from its answer's ``scope`` (lti-dr §3.6: it may grant fewer than asked);
    None when it does not say (then the launches' service claims alone tell what is offered)."""
    scope = answer.get("scope")
    if not isinstance(scope, str):
        return None
    return sorted({s for s in scope.split() if 0 < len(s) <= 255})[:50]


class DynamicRegistrationService:
    def __init__(self, db: Database, http: HttpClient, profile: ToolProfile, config: DrConfig,
                 metrics: Metrics) -> None:
        self._db = db
        self._http = http
        self._profile = profile
        self._config = config
        self._slots = threading.BoundedSemaphore(config.concurrency)
        self._outcomes = Counter(
            "gateway_lti_dynamic_registrations_total", "LTI dynamic registrations by outcome (registered or code)",
            ["outcome"], registry=metrics.registry,
        )

    @property
    def config(self) -> DrConfig:
        return self._config

    def register(self, openid_configuration: str | None, registration_token: str | None) -> Registered:
        try:
            # A few at once, never waiting for a slot: the outbound calls take up to their deadline each, and
            # the threads they hold are the ones every other request needs.
            if not self._slots.acquire(blocking=False):
                raise errors.DrBusy(headers={"Retry-After": "60"})
            try:
                result = self._register(openid_configuration, registration_token or None)
            finally:
                self._slots.release()
        except errors.LtiError as e:
            self._outcomes.labels(outcome=e.code).inc()
            raise
        self._outcomes.labels(outcome="registered").inc()
        return result

    def _register(self, config_url: str | None, token: str | None) -> Registered:
        if self._config.mode == "off":
            raise errors.DynamicRegistrationOff()
        if not config_url:
            raise errors.DrParamMissing("The registration URL was opened without openid_configuration.")
        problem = _url_problem(config_url, require_https=self._config.require_https)
        if problem:
            raise errors.DrConfigUrlInvalid(f"openid_configuration {problem}.")
        host = (urlsplit(config_url).hostname or "").lower()
        if not self._config.host_allowed(host):
            raise errors.DrHostNotAllowed(f"{host} is not an allowed LMS host.")
        platform = self.read_platform_configuration(config_url, token)
        if self._config.public_addresses_only:
            # Every endpoint it stores is called later (logins go to one, tokens and keys come from the others).
            for url in (platform.registration_endpoint, platform.authorization_endpoint, platform.token_endpoint,
                        platform.jwks_uri):
                check_public_host(url)
        answer = self._post_tool_configuration(platform, token)
        return self._store(config_url, platform, answer)

    # -- step 2 ----------------------------------------------------------------------------------------

    def _auth_headers(self, token: str | None) -> dict[str, str]:
        return {"Accept": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}

    def _json(self, response: requests.Response) -> Any:
        try:
            return json.loads(response.content)  # read by the client, under MAX_DOCUMENT_BYTES
        except RecursionError as e:  # nested deeper than the decoder can go: not a configuration
            raise ValueError("nested too deep") from e

    def _outbound_failed(self, step: str, url: str, e: OutboundError) -> errors.LtiError:
        if e.reason == "address_not_allowed":  # the address the client checked and would have connected to
            log_event(log, logging.WARNING, "lti dynamic registration refused an internal address", step=step,
                      url=_without_query(url)[:500])
            return errors.DrAddressNotAllowed()
        return self._unreachable(step, url, e.reason)

    def _unreachable(self, step: str, url: str, detail: str) -> errors.LtiError:
        """One code and a fixed message whatever went wrong on the wire: the page must not tell a timeout from a
        refused connection or a status (that would make ``/lti/register`` a port scanner). The log has it."""
        log_event(log, logging.WARNING, "lti dynamic registration outbound call failed", step=step,
                  url=_without_query(url)[:500], detail=detail)
        return errors.DrPlatformUnreachable()

    def read_platform_configuration(self, config_url: str, token: str | None) -> PlatformConfiguration:
        if self._config.public_addresses_only:
            check_public_host(config_url)
        try:
            response = self._http.get(SYSTEM, config_url, timeout=self._config.timeout_seconds,
                                      headers=self._auth_headers(token), max_bytes=MAX_DOCUMENT_BYTES,
                                      public_only=self._config.public_addresses_only)
        except OutboundError as e:
            raise self._outbound_failed("configuration", config_url, e) from e
        if response.status_code != 200:
            raise self._unreachable("configuration", config_url, f"status {response.status_code}")
        try:
            document = self._json(response)
        except (ValueError, requests.RequestException) as e:
            raise self._unreachable("configuration", config_url, "not JSON of a sane size") from e
        return check_platform_configuration(config_url, document, require_https=self._config.require_https)

    # -- step 3 ----------------------------------------------------------------------------------------

    def _post_tool_configuration(self, platform: PlatformConfiguration, token: str | None) -> dict[str, Any]:
        try:
            response = self._http.post(
                SYSTEM, platform.registration_endpoint, timeout=self._config.timeout_seconds,
                json=tool_configuration(self._profile), headers=self._auth_headers(token),
                max_bytes=MAX_DOCUMENT_BYTES, public_only=self._config.public_addresses_only,
            )
        except OutboundError as e:
            raise self._outbound_failed("registration", platform.registration_endpoint, e) from e
        if response.status_code not in (200, 201):
            log_event(log, logging.WARNING, "lti dynamic registration refused by the platform",
                      url=_without_query(platform.registration_endpoint)[:500], status=response.status_code)
            raise errors.DrRegistrationRefused()
        try:
            answer = self._json(response)
        except (ValueError, requests.RequestException) as e:
            raise errors.DrRegistrationInvalid("The LMS's answer is not JSON.") from e
        client_id = answer.get("client_id") if isinstance(answer, dict) else None
        if not isinstance(client_id, str) or not client_id or len(client_id) > 255:
            raise errors.DrRegistrationInvalid()
        return dict(answer)

    # -- step 4 ----------------------------------------------------------------------------------------

    def _store(self, config_url: str, platform: PlatformConfiguration, answer: dict[str, Any]) -> Registered:
        client_id, deployment_id = answer["client_id"], deployment_id_from(answer)
        audience = platform.authorization_server
        try:
            with self._db.transaction() as s:
                registration = add_registration(
                    s,
                    issuer=platform.issuer,
                    client_id=client_id,
                    auth_login_url=platform.authorization_endpoint,
                    auth_token_url=platform.token_endpoint,
                    auth_audience=audience if audience != platform.token_endpoint else None,
                    jwks_url=platform.jwks_uri,
                    lms=platform.lms,
                    granted_scopes=granted_scopes(answer),
                    deployment_ids=(deployment_id,) if deployment_id else (),
                    deployment_status=self._config.mode,
                    # "active" trusts the platform: its later installs (Canvas makes them after registering) too.
                    auto_activate_deployments=self._config.mode == "active",
                    actor=ACTOR,
                    audit={"via": "dynamic_registration", "openid_configuration": _without_query(config_url),
                           "product_family_code": platform.product_family_code},
                )
                if self._config.mode == "pending":
                    # Not usable until an administrator enables it: an unknown platform must not get a working
                    # registration just by serving an OpenID configuration.
                    set_registration_status(s, registration.id, "disabled", actor=ACTOR)
                    registration = replace(registration, status="disabled")
                row = DeploymentRepository(s).find(registration.id, deployment_id) if deployment_id else None
                deployment = Deployment.from_row(row) if row is not None else None
        except (RegistrationExists, IntegrityError) as e:
            raise errors.DrRegistrationExists(
                f"The LMS answered with client id {client_id[:80]!r}, already registered for {platform.issuer}."
            ) from e
        log_event(log, logging.INFO, "lti dynamic registration stored", registration=registration.id,
                  lms=registration.lms, deployment_status=deployment.status if deployment else None)
        return Registered(registration, deployment, platform)


def registered_page(result: Registered, tool_name: str) -> str:
    """Tell the administrator what was registered, then post ``org.imsglobal.lti.close`` to the LMS.

    When deployments need the tool operator's approval, the page says so and waits for the
    administrator's click; otherwise it closes itself at once.
    """
    registration, deployment = result.registration, result.deployment
    rows = [("LMS", result.platform.product_family_code or registration.lms), ("Issuer", registration.issuer),
            ("Client id", registration.client_id)]
    if deployment is not None:
        rows.append(("Deployment", f"{deployment.deployment_id} ({deployment.status})"))
    table = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in rows)
    if not registration.active:
        pending = True
        steps = f"<code>gateway registrations enable {escape(registration.id)}</code>"
        if deployment is not None and deployment.status == "pending":
            steps += f" and <code>gateway deployments approve {escape(deployment.id)}</code>"
        note = ('<p id="approval">The tool\'s operator must enable this registration before the LMS can use it: '
                f"{steps}.</p>")
    elif deployment is not None and deployment.status == "pending":
        pending = True
        note = ('<p id="approval">The tool\'s operator must approve this deployment before it can be used: '
                f'<code>gateway deployments approve {escape(deployment.id)}</code>.</p>')
    else:
        pending = deployment is None and not registration.auto_activate_deployments
        note = ('<p id="approval">Each deployment of the tool waits for the tool operator\'s approval after its '
                "first launch (<code>gateway deployments list --status pending</code>).</p>") if pending else ""
    script = (
        "<script>function closeRegistration(){var target=window.opener||window.parent;"
        f"if(target&&target!==window){{target.postMessage({{subject:{json.dumps(CLOSE_SUBJECT)}}},'*');}}}}"
        "document.getElementById('close').addEventListener('click',closeRegistration);"
        + ("" if pending else "closeRegistration();")
        + "</script>"
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Tool registered</title>'
        "<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;"
        "color:#1f2933}th{text-align:left;padding-right:1rem}</style></head><body>"
        f'<main><h1 id="registered">{escape(tool_name)} is registered</h1><table>{table}</table>{note}'
        '<p><button id="close" type="button">Return to the LMS</button></p></main>'
        f"{script}</body></html>"
    )
