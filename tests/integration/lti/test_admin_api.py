"""``/api/v1/admin/lti/...``: registrations and deployments over the API, every change in the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.support.databases import DatabaseFactory
from tests.support.gateway import GatewayUnderTest, start_gateway
from tests.support.lti_registrations import audit, counts

CANVAS = {"preset": "canvas", "client_id": "10000000000042", "name": "Springfield Canvas",
          "deployment_ids": ["42:abc"], "options": {"email_matching": False}}


def _admin(gateway: GatewayUnderTest) -> tuple[requests.Session, str]:
    api = gateway.api("admin")
    key_id = api.get(f"{gateway.url}/api/v1/whoami", timeout=10).json()["id"]
    return api, f"api_key:{key_id}"


def _url(gateway: GatewayUnderTest, path: str) -> str:
    return f"{gateway.url}/api/v1/admin/lti{path}"


def test_registration_and_deployment_lifecycle(gateway_on: GatewayUnderTest) -> None:
    gateway = gateway_on
    api, actor = _admin(gateway)
    made = api.post(_url(gateway, "/registrations"), json=CANVAS, timeout=10)
    assert made.status_code == 201, made.text
    reg: dict[str, Any] = made.json()
    assert made.headers["Location"] == f"/api/v1/admin/lti/registrations/{reg['id']}"
    assert (reg["issuer"], reg["lms"], reg["status"]) == ("https://canvas.instructure.com", "canvas", "active")
    assert reg["auth_login_url"] == "https://sso.canvaslms.com/api/lti/authorize_redirect"
    assert reg["token_audience"] == reg["auth_token_url"] == "https://sso.canvaslms.com/login/oauth2/token"
    assert reg["deployment_counts"] == {"active": 1, "pending": 0, "disabled": 0}
    assert api.get(_url(gateway, f"/registrations/{reg['id']}"), timeout=10).json() == reg

    patched = api.patch(_url(gateway, f"/registrations/{reg['id']}"), timeout=10, json={
        "name": "Springfield", "auth_audience": "urn:aud", "auto_activate_deployments": True,
        "options": {"email_matching": None, "clever_id_param": "clever_id"}})
    assert patched.status_code == 200, patched.text
    assert patched.json()["options"] == {"clever_id_param": "clever_id"}
    assert patched.json()["token_audience"] == "urn:aud" and patched.json()["auto_activate_deployments"] is True

    disabled = api.post(_url(gateway, f"/registrations/{reg['id']}/disable"), timeout=10).json()
    assert disabled["status"] == "disabled"
    assert api.post(_url(gateway, f"/registrations/{reg['id']}/enable"), timeout=10).json()["status"] == "active"

    added = api.post(_url(gateway, f"/registrations/{reg['id']}/deployments"), json={"deployment_id": "43:def",
                                                                                      "name": "Shelbyville"},
                     timeout=10)
    assert added.status_code == 201, added.text
    dep = added.json()
    assert (dep["deployment_id"], dep["status"], dep["name"]) == ("43:def", "active", "Shelbyville")
    assert api.post(_url(gateway, f"/deployments/{dep['id']}/disable"), timeout=10).json()["status"] == "disabled"
    assert api.post(_url(gateway, f"/deployments/{dep['id']}/approve"), timeout=10).json()["status"] == "active"

    listed = api.get(_url(gateway, "/deployments"), params={"registration_id": reg["id"]}, timeout=10).json()
    assert sorted(d["deployment_id"] for d in listed["data"]) == ["42:abc", "43:def"]
    assert listed["next_cursor"] is None

    trail = [(e["actor"], e["action"]) for e in audit(gateway, reg["id"])]
    assert trail == [(actor, a) for a in ("lti.registration.add", "lti.registration.update",
                                          "lti.registration.status", "lti.registration.status")]
    update = audit(gateway, reg["id"])[1]["details"]["changed"]
    assert update["name"] == {"from": "Springfield Canvas", "to": "Springfield"}
    assert [(e["actor"], e["action"], e["details"].get("status")) for e in audit(gateway, dep["id"])] == [
        (actor, "lti.deployment.add", "active"), (actor, "lti.deployment.status", "disabled"),
        (actor, "lti.deployment.status", "active")]


def test_no_op_changes_are_not_audited(gateway: GatewayUnderTest) -> None:
    api, _ = _admin(gateway)
    reg = api.post(_url(gateway, "/registrations"), json=CANVAS, timeout=10).json()
    before = counts(gateway)
    assert api.post(_url(gateway, f"/registrations/{reg['id']}/enable"), timeout=10).status_code == 200
    assert api.patch(_url(gateway, f"/registrations/{reg['id']}"), json={"name": CANVAS["name"]},
                     timeout=10).status_code == 200
    assert counts(gateway) == before


@pytest.fixture(scope="module")
def shared(db_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory,
           ) -> Iterator[tuple[GatewayUnderTest, requests.Session, str]]:
    """One gateway with one registration for the refusal matrix: each case checks that it changed nothing."""
    gateway = start_gateway(db_factory.sqlite_url(), tmp_path_factory.mktemp("keys"))
    try:
        api, _ = _admin(gateway)
        made = api.post(_url(gateway, "/registrations"), json=CANVAS, timeout=10)
        assert made.status_code == 201, made.text
        yield gateway, api, made.json()["id"]
    finally:
        gateway.close()
    gateway.contract.assert_clean()


def _problem(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["Content-Type"] == "application/problem+json" and body["code"] == code
    return body


@pytest.mark.xdist_group(__name__)  # one worker builds the module-scoped ``shared`` gateway once
@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code", "fields"),
    [
        ("post", "/registrations", {**CANVAS, "client_id": ""}, 422, "VALIDATION_FAILED", {"client_id"}),
        ("post", "/registrations", {"preset": "moodle", "client_id": "1"}, 422, "VALIDATION_FAILED", {"site_url"}),
        ("post", "/registrations", {"client_id": "1", "issuer": "https://x.edu"}, 422, "VALIDATION_FAILED",
         {"auth_login_url", "auth_token_url", "jwks_url"}),
        ("post", "/registrations", [CANVAS], 422, "VALIDATION_FAILED", {"body"}),
        ("patch", "/registrations/{reg}", {"issuer": "https://other.edu"}, 422, "VALIDATION_FAILED", {"issuer"}),
        ("patch", "/registrations/{reg}", {"jwks_url": None, "lms": "sakai"}, 422, "VALIDATION_FAILED",
         {"jwks_url", "lms"}),
        ("patch", "/registrations/reg_nope", {"name": "x"}, 404, "LTI_REGISTRATION_NOT_FOUND", None),
        ("post", "/registrations/reg_nope/disable", None, 404, "LTI_REGISTRATION_NOT_FOUND", None),
        ("post", "/registrations/{reg}/deployments", {"deployment_id": "42:abc"}, 409, "LTI_DEPLOYMENT_EXISTS", None),
        ("post", "/registrations/{reg}/deployments", {"deployment": "1"}, 422, "VALIDATION_FAILED", {"deployment"}),
        ("post", "/deployments/dep_nope/approve", None, 404, "LTI_DEPLOYMENT_NOT_FOUND", None),
        ("get", "/deployments?status=waiting", None, 422, "VALIDATION_FAILED", {"status"}),
        ("get", "/deployments?registration_id=reg_nope", None, 404, "LTI_REGISTRATION_NOT_FOUND", None),
        ("get", "/registrations?limit=0", None, 422, "VALIDATION_FAILED", {"limit"}),
    ],
)
def test_refusals_have_codes_and_change_nothing(shared: tuple[GatewayUnderTest, requests.Session, str], method: str,
                                                path: str, body: Any, status: int, code: str,
                                                fields: set[str] | None) -> None:
    gateway, api, reg_id = shared
    reg = {"id": reg_id}
    before = counts(gateway)
    response = api.request(method, _url(gateway, path.format(reg=reg["id"])), json=body, timeout=10)
    problem = _problem(response, status, code)
    if fields is not None:
        assert {e["field"] for e in problem["errors"]} == fields
    assert counts(gateway) == before


def test_a_second_registration_for_the_same_issuer_and_client_is_refused(gateway: GatewayUnderTest) -> None:
    api, _ = _admin(gateway)
    assert api.post(_url(gateway, "/registrations"), json=CANVAS, timeout=10).status_code == 201
    before = counts(gateway)
    _problem(api.post(_url(gateway, "/registrations"), json=CANVAS, timeout=10), 409, "LTI_REGISTRATION_EXISTS")
    assert counts(gateway) == before


def test_admin_scope_is_required(gateway: GatewayUnderTest) -> None:
    api = gateway.api("launches", "writeback", "roster")
    body = _problem(api.post(_url(gateway, "/registrations"), json=CANVAS, timeout=10), 403, "INSUFFICIENT_SCOPE")
    assert body["required_scope"] == "admin"
    _problem(requests.get(_url(gateway, "/deployments"), timeout=10), 401, "UNAUTHENTICATED")
    assert counts(gateway)["registrations"] == 0


def test_a_retried_create_with_its_idempotency_key_makes_one_registration(gateway: GatewayUnderTest) -> None:
    api, _ = _admin(gateway)
    headers = {"Idempotency-Key": "create-canvas-1"}
    first = api.post(_url(gateway, "/registrations"), json=CANVAS, headers=headers, timeout=10)
    again = api.post(_url(gateway, "/registrations"), json=CANVAS, headers=headers, timeout=10)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert counts(gateway)["registrations"] == 1


def test_lists_page_with_a_cursor(gateway: GatewayUnderTest) -> None:
    api, _ = _admin(gateway)
    for n in range(3):
        api.post(_url(gateway, "/registrations"), json={**CANVAS, "client_id": f"1000{n}", "deployment_ids": []},
                 timeout=10).raise_for_status()
    api.post(_url(gateway, f"/registrations/{_first_id(api, gateway)}/disable"), timeout=10).raise_for_status()
    seen: list[str] = []
    url: str | None = _url(gateway, "/registrations?limit=2")
    while url:
        page = api.get(url, timeout=10)
        body = page.json()
        seen += [r["client_id"] for r in body["data"]]
        url = page.links["next"]["url"] if "next" in page.links else None
        assert (url is None) == (body["next_cursor"] is None)
    assert sorted(seen) == ["10000", "10001", "10002"]
    disabled = api.get(_url(gateway, "/registrations"), params={"status": "disabled"}, timeout=10).json()["data"]
    assert [r["status"] for r in disabled] == ["disabled"]


def _first_id(api: requests.Session, gateway: GatewayUnderTest) -> str:
    return str(api.get(_url(gateway, "/registrations"), timeout=10).json()["data"][0]["id"])
