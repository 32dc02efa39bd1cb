"""LTI Dynamic Registration end to end against the simulated platform, and every refusal (code, page, no rows)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from gateway.lti import errors
from gateway.lti.dynamic_registration import DynamicRegistrationService
from gateway.lti.registrations import add_registration
from gateway.ops.metrics import Metrics
from gateway.store.repositories.lti_registrations import DeploymentRepository, RegistrationRepository
from sandbox.lms import SandboxPlatform
from tests.support.dr_spec import assert_valid_tool_configuration
from tests.support.gateway import GatewayUnderTest, start_gateway
from tests.support.live import LiveServer, reserve_port
from tests.support.lti_flow import Browser, launch, parse_page
from tests.support.lti_registrations import audit, counts
from tests.support.lti_sandbox import start_platform

CLOSE = "org.imsglobal.lti.close"


@dataclass
class Pair:
    gateway: GatewayUnderTest
    platform: SandboxPlatform

    @property
    def register_url(self) -> str:
        return self.gateway.url + "/lti/register"

    def open(self, url: str) -> requests.Response:
        """What the LMS's registration frame does: GET the tool's URL."""
        return requests.get(url, timeout=15)


@pytest.fixture
def pair(sqlite_url: str, keys_dir: Path, request: pytest.FixtureRequest) -> Iterator[Pair]:
    settings: dict[str, Any] = getattr(request, "param", {})
    gateway = start_gateway(sqlite_url, keys_dir, **settings)
    platform, server = start_platform()
    try:
        yield Pair(gateway, platform)
    finally:
        server.stop()
        gateway.close()
    gateway.contract.assert_clean()


def _refused(pair: Pair, url: str, status: int, code: str) -> requests.Response:
    before = counts(pair.gateway)
    response = pair.open(url)
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("text/html")
    assert parse_page(response.text).error_code == code
    assert CLOSE not in response.text
    assert counts(pair.gateway) == before
    return response


def test_registration_end_to_end_then_approval_then_launch(pair: Pair) -> None:
    platform, gateway = pair.platform, pair.gateway
    page = pair.open(platform.start_registration(pair.register_url))
    assert page.status_code == 200, page.text
    assert 'id="registered"' in page.text and CLOSE in page.text and 'id="approval"' in page.text

    # What the platform received: the spec's members, the gateway's URLs, posted with the registration token.
    (config,) = platform.tool_registrations
    assert_valid_tool_configuration(config, base_url=gateway.url)
    (posted,) = platform.requests_of("registration")
    assert (posted.status, posted.headers["Authorization"]) == (200, "Bearer")
    assert platform.requests_of("openid_configuration")[0].headers["Authorization"] == "Bearer"

    # What the gateway stored: the registration from the platform's configuration, the deployment from its answer.
    with gateway.services.db.transaction() as s:
        (reg,) = RegistrationRepository(s).list()
        (dep,) = DeploymentRepository(s).for_registration(reg.id)
        reg_values = (reg.issuer, reg.client_id, reg.auth_login_url, reg.auth_token_url, reg.jwks_url, reg.lms,
                      reg.auth_audience, reg.status)
        reg_id, dep_values = reg.id, (dep.id, dep.deployment_id, dep.status)
    # pending mode: whoever served the configuration gets no usable registration until the operator says so.
    assert reg_values == (platform.issuer, platform.client_id, platform.auth_url, platform.token_url,
                          platform.jwks_url, "sandbox", None, "disabled")
    assert dep_values[1:] == (platform.deployment_id, "pending")
    assert f"gateway registrations enable {reg_id}" in page.text
    actions = [(e["actor"], e["action"]) for e in audit(gateway)]
    assert actions == [("lti-dynamic-registration", "lti.registration.add"),
                       ("lti-dynamic-registration", "lti.deployment.add"),
                       ("lti-dynamic-registration", "lti.registration.status")]
    assert audit(gateway, reg.id)[0]["details"]["openid_configuration"] == platform.openid_configuration_url

    # The platform launches the tool it registered: refused until the operator enables the registration and
    # approves the deployment, then it works.
    browser = Browser()
    refused = launch(browser, platform.prepare())
    assert (refused.error_code, refused.code) == ("LTI_REGISTRATION_DISABLED", None)
    admin = gateway.api("admin")
    admin.post(f"{gateway.url}/api/v1/admin/lti/registrations/{reg_id}/enable", timeout=10).raise_for_status()
    assert launch(browser, platform.prepare()).error_code == "LTI_DEPLOYMENT_PENDING"
    admin.post(f"{gateway.url}/api/v1/admin/lti/deployments/{dep_values[0]}/approve",
               timeout=10).raise_for_status()
    assert launch(browser, platform.prepare()).code
    browser.close()


@pytest.mark.parametrize("pair", [{"lti_dynamic_registration": "active"}], indirect=True)
def test_in_active_mode_the_deployment_launches_at_once(pair: Pair) -> None:
    page = pair.open(pair.platform.start_registration(pair.register_url))
    assert page.status_code == 200 and 'id="approval"' not in page.text
    assert "closeRegistration();</script>" in page.text  # nothing to read: the page closes itself
    browser = Browser()
    assert launch(browser, pair.platform.prepare()).code
    browser.close()


@pytest.mark.parametrize(("pair", "first_launch"), [({}, "LTI_DEPLOYMENT_UNKNOWN"),
                                                   ({"lti_dynamic_registration": "active"}, None)],
                         indirect=["pair"])
def test_an_answer_without_a_deployment(pair: Pair, first_launch: str | None) -> None:
    """Canvas makes deployments when the tool is installed, after registering: the launch brings them."""
    pair.platform.answer_with_deployment = False
    page = pair.open(pair.platform.start_registration(pair.register_url))
    assert page.status_code == 200 and ('id="approval"' in page.text) == (first_launch is not None)
    with pair.gateway.services.db.transaction() as s:
        (reg,) = RegistrationRepository(s).list()
        assert DeploymentRepository(s).for_registration(reg.id) == []
        assert reg.auto_activate_deployments is (first_launch is None)
        assert reg.status == ("disabled" if first_launch else "active")
        reg_id = reg.id
    browser = Browser()
    if first_launch is not None:
        assert launch(browser, pair.platform.prepare()).error_code == "LTI_REGISTRATION_DISABLED"
        pair.gateway.api("admin").post(f"{pair.gateway.url}/api/v1/admin/lti/registrations/{reg_id}/enable",
                                       timeout=10).raise_for_status()
    result = launch(browser, pair.platform.prepare())
    assert result.error_code == first_launch and (result.code is None) == (first_launch is not None)
    browser.close()


def test_brightspace_style_separate_token_audience_is_kept(pair: Pair) -> None:
    pair.platform.token_audience_override = "https://api.example.com/auth/token"
    assert pair.open(pair.platform.start_registration(pair.register_url)).status_code == 200
    with pair.gateway.services.db.transaction() as s:
        (reg,) = RegistrationRepository(s).list()
        assert reg.auth_audience == "https://api.example.com/auth/token"


def test_an_issuer_on_another_host_is_refused(pair: Pair) -> None:
    pair.platform.openid_issuer_override = "https://lms.example.com"
    _refused(pair, pair.platform.start_registration(pair.register_url), 400, "LTI_DR_ISSUER_HOST_MISMATCH")
    assert pair.platform.requests_of("registration") == []  # nothing was posted to that platform


def test_a_bad_registration_token_is_refused(pair: Pair) -> None:
    url = pair.platform.start_registration(pair.register_url)
    forged = url.rsplit("registration_token=", 1)[0] + "registration_token=forged"
    _refused(pair, forged, 502, "LTI_DR_REGISTRATION_REFUSED")
    assert [r.status for r in pair.platform.requests_of("registration")] == [401]
    assert pair.platform.tool_registrations == []


def test_a_used_registration_token_is_refused(pair: Pair) -> None:
    url = pair.platform.start_registration(pair.register_url)
    assert pair.open(url).status_code == 200
    _refused(pair, url, 502, "LTI_DR_REGISTRATION_REFUSED")


def test_a_client_id_the_gateway_holds_already_is_refused(pair: Pair) -> None:
    registration = pair.platform.registration()
    with pair.gateway.services.db.transaction() as s:
        add_registration(s, **{**registration, "client_id": "sandbox-dr-client-1"})
    _refused(pair, pair.platform.start_registration(pair.register_url), 409, "LTI_DR_REGISTRATION_EXISTS")


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ({}, 400, "LTI_DR_PARAM_MISSING"),
        ({"openid_configuration": "/.well-known/openid-configuration"}, 400, "LTI_DR_CONFIG_URL_INVALID"),
        ({"openid_configuration": "ftp://lms.example.edu/config"}, 400, "LTI_DR_CONFIG_URL_INVALID"),
        ({"openid_configuration": "{platform}/no-such-document"}, 502, "LTI_DR_PLATFORM_UNREACHABLE"),
        ({"openid_configuration": "{platform}/jwks"}, 502, "LTI_DR_CONFIG_INVALID"),  # JSON, not a configuration
        ({"openid_configuration": "{platform}/storage-frame"}, 502, "LTI_DR_PLATFORM_UNREACHABLE"),  # HTML
    ],
)
def test_unusable_starts_are_refused(pair: Pair, query: dict[str, str], status: int, code: str) -> None:
    filled = {k: v.format(platform=pair.platform.base_url) for k, v in query.items()}
    _refused(pair, f"{pair.register_url}?{urlencode(filled)}", status, code)


def test_an_unreachable_platform_is_refused(pair: Pair) -> None:
    url = f"http://127.0.0.1:{reserve_port()}/.well-known/openid-configuration"  # nothing listens there
    _refused(pair, f"{pair.register_url}?{urlencode({'openid_configuration': url})}", 502,
             "LTI_DR_PLATFORM_UNREACHABLE")


def _slow(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    time.sleep(1.5)
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b"{}"]


@pytest.mark.parametrize("pair", [{"lti_dynamic_registration_timeout_seconds": 0.3}], indirect=True)
def test_a_platform_that_does_not_answer_in_time_is_refused(pair: Pair) -> None:
    with LiveServer(_slow) as slow:
        query = urlencode({"openid_configuration": slow.url + "/.well-known/openid-configuration"})
        _refused(pair, f"{pair.register_url}?{query}", 502, "LTI_DR_PLATFORM_UNREACHABLE")


@pytest.mark.parametrize(
    ("pair", "code"),
    [
        ({"lti_dynamic_registration": "off"}, "LTI_DR_DISABLED"),
        ({"lti_dynamic_registration_hosts": "moodle.example.edu,.instructure.com"}, "LTI_DR_HOST_NOT_ALLOWED"),
    ],
    indirect=["pair"],
)
def test_the_operator_can_switch_it_off_or_allow_some_hosts(pair: Pair, code: str) -> None:
    _refused(pair, pair.platform.start_registration(pair.register_url), 403, code)
    assert pair.platform.requests_of("openid_configuration") == []  # refused before any outbound call


# -- what a stranger can make the gateway do (the page is public) ------------------------------------------


class Recorder:
    """A second host: records what reaches it."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"], environ.get("HTTP_AUTHORIZATION", "")))
        start_response("201 Created", [("Content-Type", "application/json")])
        return [b'{"client_id": "stolen"}']


def _configuration_pointing_at(registration_endpoint: str) -> Any:
    """An attacker's OpenID configuration: valid, issuer on its own host, registration_endpoint elsewhere."""
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        base = f"http://{environ['HTTP_HOST']}"
        document = {
            "issuer": base, "authorization_endpoint": base + "/auth", "token_endpoint": base + "/token",
            "jwks_uri": base + "/jwks", "registration_endpoint": registration_endpoint,
            "https://purl.imsglobal.org/spec/lti-platform-configuration": {"product_family_code": "moodle"},
        }
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(document).encode()]
    return app


def test_a_registration_endpoint_on_another_host_gets_nothing(pair: Pair) -> None:
    """SSRF: the configuration's host may not send the gateway (with the token as Bearer) to a second host."""
    recorder = Recorder()
    with LiveServer(recorder) as second:
        target = second.url.replace("127.0.0.1", "localhost") + "/internal/admin"
        with LiveServer(_configuration_pointing_at(target)) as attacker:
            query = urlencode({"openid_configuration": attacker.url + "/.well-known/openid-configuration",
                               "registration_token": "attacker-chosen"})
            _refused(pair, f"{pair.register_url}?{query}", 400, "LTI_DR_ENDPOINT_HOST_MISMATCH")
    assert recorder.seen == []


def _page_text(response: requests.Response) -> str:
    """What the page says, without the request id."""
    return re.sub(r'request <span class="code">[^<]*</span>', "", response.text)


def _answers(status: int) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response(f"{status} Whatever", [("Content-Type", "text/plain")])
        return [b"internal service banner"]
    return app


@pytest.mark.parametrize("pair", [{"lti_dynamic_registration_timeout_seconds": 0.3}], indirect=True)
def test_the_page_does_not_tell_network_outcomes_apart(pair: Pair) -> None:
    """Port probing: a status, a refused connection and a timeout read the same; only the log has the detail."""
    def opened(config_url: str) -> str:
        response = _refused(pair, f"{pair.register_url}?{urlencode({'openid_configuration': config_url})}", 502,
                            "LTI_DR_PLATFORM_UNREACHABLE")
        return _page_text(response)

    with LiveServer(_answers(418)) as teapot, LiveServer(_answers(200)) as banner, LiveServer(_slow) as slow:
        pages = {
            "status": opened(teapot.url + "/x"),
            "not json": opened(banner.url + "/x"),
            "refused": opened(f"http://127.0.0.1:{reserve_port()}/x"),
            "timeout": opened(slow.url + "/x"),
        }
    assert len(set(pages.values())) == 1, pages
    page = pages["status"]
    assert "418" not in page and "timed out" not in page and "banner" not in page and "connect" not in page


def test_in_production_internal_addresses_are_never_called(pair: Pair) -> None:
    """The production guard (on with GATEWAY_ENV=production): the simulated LMS listens on loopback."""
    services = pair.gateway.services
    config = replace(services.lti.registration.config, public_addresses_only=True)
    guarded = DynamicRegistrationService(services.db, services.http, services.lti.tool, config, Metrics())
    before = counts(pair.gateway)
    start = pair.platform.start_registration(pair.register_url)
    params = {k: v[0] for k, v in parse_qs(urlsplit(start).query).items()}
    with pytest.raises(errors.DrAddressNotAllowed):
        guarded.register(params["openid_configuration"], params["registration_token"])
    assert pair.platform.requests_of("openid_configuration") == [] and pair.platform.requests_of("registration") == []
    assert counts(pair.gateway) == before
