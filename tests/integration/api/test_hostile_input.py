"""No 500 from input (issue 17): what no route can store or answer is refused at the edge, on both engines.

Before: JSON nested 50k deep was a 500 (RecursionError) on redeem, assignments, admin registrations and the
idempotency fingerprint; a lone surrogate in any stored string was a 500 on both engines; a NUL byte in a body,
a path id or ``/lti/login?iss=`` was a 500 on PostgreSQL and stored on SQLite. Made-up methods grew /metrics.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
from werkzeug.wrappers import Request, Response

from gateway.handoff.service import Handoff
from tests.support.gateway import GatewayUnderTest
from tests.support.live import LiveServer
from tests.support.lti_records import sample_lti_record

DEEP = "[" * 50_000 + "]" * 50_000
JSON = {"Content-Type": "application/json"}


def _refused(response: requests.Response, field: str | None = None) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "INVALID_INPUT"
    if field is not None:
        assert response.json()["errors"][0]["field"] == field


@pytest.mark.parametrize(("method", "path", "scope"), [
    ("POST", "/api/v1/launches/redeem", "launches"),
    ("POST", "/api/v1/admin/lti/registrations", "admin"),
    ("POST", "/api/v1/contexts/ctx_x/assignments", "writeback"),
    ("PATCH", "/api/v1/admin/identity/registrations/reg_x/rules", "admin"),
])
def test_json_nested_deep_is_refused_everywhere(gateway_on: GatewayUnderTest, method: str, path: str,
                                                scope: str) -> None:
    session = gateway_on.api(scope)
    headers = {**JSON, "Idempotency-Key": "deep-1"}
    body = '{"code": ' + DEEP + "}"
    _refused(session.request(method, gateway_on.url + path, data=body, headers=headers, timeout=30), "body")
    shallow = '{"code": ' + "[" * 40 + "]" * 40 + "}"  # deeper than 32 but parses fine: still refused
    _refused(session.request(method, gateway_on.url + path, data=shallow, headers=headers, timeout=30), "body")


@pytest.mark.parametrize("text", ["\\ud800", "a\\u0000b", "\\udfff tail"])
def test_a_lone_surrogate_or_nul_in_a_body_is_refused_and_nothing_stored(gateway_on: GatewayUnderTest,
                                                                         text: str) -> None:
    session = gateway_on.api("admin")
    url = gateway_on.url + "/api/v1/admin/lti/registrations"
    body = '{"preset": "canvas", "client_id": "' + text + '"}'
    _refused(session.post(url, data=body, headers={**JSON, "Idempotency-Key": "s-1"}, timeout=10), "client_id")
    assert session.get(url, timeout=10).json()["data"] == []


def test_a_nul_in_a_path_id_or_a_query_is_refused(gateway_on: GatewayUnderTest) -> None:
    session = gateway_on.api("launches", "writeback")
    _refused(session.get(gateway_on.url + "/api/v1/launches/lch_%00x", timeout=10), "path")
    _refused(session.get(gateway_on.url + "/api/v1/deliveries?state=%00", timeout=10), "state")
    page = requests.get(gateway_on.url + "/lti/login?iss=%00&login_hint=a&target_link_uri=b", timeout=10)
    assert page.status_code == 400 and page.headers["Content-Type"].startswith("text/html")
    assert 'id="error-code">INVALID_INPUT' in page.text
    form = requests.post(gateway_on.url + "/lti/login", data={"iss": "x\x00", "login_hint": "a"}, timeout=10)
    assert form.status_code == 400 and "INVALID_INPUT" in form.text


def test_the_platform_configuration_nested_deep_is_a_refusal_not_a_500(gateway: GatewayUnderTest) -> None:
    @Request.application  # type: ignore[arg-type]
    def platform(request: Request) -> Response:
        return Response(DEEP, mimetype="application/json")

    with LiveServer(platform) as lms:
        page = requests.get(f"{gateway.url}/lti/register?openid_configuration={lms.url}/.well-known/openid",
                            timeout=30)
    assert page.status_code == 502, page.text
    assert "LTI_DR_PLATFORM_UNREACHABLE" in page.text


def test_a_redeemed_launch_record_is_never_cached(gateway: GatewayUnderTest) -> None:
    with gateway.services.db.transaction() as s:
        issued: Handoff = gateway.services.handoff.issue(s, "lti", sample_lti_record("usr_1"), user_id=None)
    response = gateway.api("launches").post(gateway.url + "/api/v1/launches/redeem", json={"code": issued.code},
                                            timeout=10)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_a_405_says_which_methods_the_path_takes(gateway: GatewayUnderTest) -> None:
    response = gateway.api("launches").delete(gateway.url + "/api/v1/whoami", timeout=10)
    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"
    assert {m.strip() for m in response.headers["Allow"].split(",")} >= {"GET"}


def _label_values(text: str, label: str) -> set[str]:
    return set(re.findall(r'^gateway_http_requests_total\{[^}]*' + label + r'="([^"]*)"', text, re.MULTILINE))


def test_made_up_methods_and_paths_do_not_grow_the_metrics(gateway: GatewayUnderTest) -> None:
    for i in range(30):
        requests.request(f"BREW{i}", gateway.url + "/healthz", timeout=10)
        requests.get(f"{gateway.url}/no-such-page-{i}", timeout=10)
    text = requests.get(gateway.url + "/metrics", timeout=10).text
    assert _label_values(text, "method") <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}
    assert "other" in _label_values(text, "method")
    assert not any("no-such-page" in v for v in _label_values(text, "endpoint"))


@pytest.fixture
def page_paths() -> Iterator[dict[str, str]]:
    yield {"lti": "/lti/login", "clever": "/clever/callback?code=x", "identity": "/identity/link/nope",
           "missing": "/nothing-here"}


def test_html_pages_carry_a_csp_and_who_may_frame_them(gateway: GatewayUnderTest,
                                                       page_paths: dict[str, str]) -> None:
    pages = {name: requests.get(gateway.url + path, timeout=10, allow_redirects=False)
             for name, path in page_paths.items()}
    for name, page in pages.items():
        assert page.headers["Content-Type"].startswith("text/html"), name
        csp = page.headers["Content-Security-Policy"]
        assert "object-src 'none'" in csp and "base-uri 'none'" in csp, name
        assert page.headers["Cache-Control"] == "no-store", name
    for name in ("lti", "identity"):  # an LMS frames the launch, and the link page an unmatched launch lands on
        assert "frame-ancestors https: http:" in pages[name].headers["Content-Security-Policy"], name
        assert "X-Frame-Options" not in pages[name].headers, name
    for name in ("clever", "missing"):
        assert "frame-ancestors 'none'" in pages[name].headers["Content-Security-Policy"], name
        assert pages[name].headers["X-Frame-Options"] == "DENY", name
    assert "Strict-Transport-Security" not in pages["lti"].headers  # only in production (tests/unit/api)


