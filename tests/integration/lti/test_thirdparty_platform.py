"""The gateway against a platform it did not write: lti1p3platform 0.1.8 (PyPI) over loopback.

The same valid launches (23 certification variants, built with the library's own setters) and the same
invalid cases as against the simulated platform, each checked for its code and for storing nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from gateway.lti import claims as c
from gateway.lti import management
from gateway.lti.registrations import add_registration, find_deployment, find_registration
from sandbox.lms.cases import OTHER_CLIENT_ID, UNKNOWN_DEPLOYMENT, Case
from sandbox.lms.messages import UNKNOWN_ROLE, VALID_VARIANTS
from tests.support.databases import DatabaseFactory
from tests.support.gateway import GatewayUnderTest, start_gateway
from tests.support.lti_cases import EXPECTED
from tests.support.lti_flow import Browser, launch, parse_page
from tests.support.lti_sandbox import stored
from tests.support.lti_thirdparty import (
    CLIENT_ID,
    DEPLOYMENT_ID,
    STUDENT_ROLES,
    Intent,
    ThirdPartyPlatform,
    serve_thirdparty,
)

# One worker runs this module, so its module-scoped world (servers, keys, launches) is built once.
pytestmark = pytest.mark.xdist_group(__name__)

# A new deployment stores a pending row (its own test below); the rest must store nothing.
NOT_HERE = {Case.VALID, Case.UNKNOWN_DEPLOYMENT}


@dataclass
class Pair:
    gateway: GatewayUnderTest
    platform: ThirdPartyPlatform

    def launch(self, intent: Intent, tamper: Callable[[dict[str, str]], object] | None = None) -> Any:
        browser = Browser()
        try:
            return launch(browser, self.platform.login_url(intent), tamper=tamper)
        finally:
            browser.close()

    def deployment_ref(self) -> str:
        registration = find_registration(self.gateway.services.db, self.platform.issuer, CLIENT_ID)
        assert registration is not None
        with self.gateway.services.db.transaction() as s:
            deployment = find_deployment(s, registration.id, DEPLOYMENT_ID)
        assert deployment is not None
        return deployment.id

    def redeem(self, code: str) -> dict[str, Any]:
        response = self.gateway.api("launches").post(f"{self.gateway.url}/api/v1/launches/redeem",
                                                     json={"code": code}, timeout=10)
        assert response.status_code == 200, response.text
        record: dict[str, Any] = response.json()
        return record


@pytest.fixture(scope="module")
def pair(db_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    gateway = start_gateway(db_factory.sqlite_url(), tmp_path_factory.mktemp("keys"))
    config = gateway.services.lti.config
    try:
        with serve_thirdparty() as platform:
            platform.connect(login_url=config.login_url, launch_url=config.launch_url, tool_jwks_url=config.jwks_url)
            with gateway.services.db.transaction() as s:
                add_registration(s, deployment_ids=(DEPLOYMENT_ID,), **platform.gateway_registration())
                # A second registration of the same issuer, so a token for it is an aud mismatch, not an unknown
                # client.
                add_registration(s, **{**platform.gateway_registration(), "client_id": OTHER_CLIENT_ID})
            yield Pair(gateway, platform)
    finally:
        gateway.close()
    gateway.contract.assert_clean()


def thirdparty_intent(variant: str) -> Intent:
    (who, _), _ = VALID_VARIANTS[variant]
    intent = Intent() if who == "teacher" else Intent(user_id="tp-student", roles=list(STUDENT_ROLES),
                                                      name="Sasha Student", email="sasha@example.edu")
    short = "Instructor" if who == "teacher" else "Learner"
    changes: dict[str, dict[str, Any]] = {
        "no_pii": {"name": None, "email": None},
        "only_email": {"name": None},
        "only_names": {"email": None},
        "only_resource_link": {"name": None, "email": None, "presentation": False, "ags": False, "nrps": False,
                               "custom": {}},
        "no_role": {"roles": [""]},
        "multiple_roles": {"roles": [c.MEMBERSHIP_ROLE + short, c.MEMBERSHIP_ROLE + "Mentor",
                                     c.SYSTEM_ROLE + "User"]},
        "short_role": {"roles": [short]},
        "unknown_role": {"roles": [UNKNOWN_ROLE]},
        "passed_lti_link": {"custom": {"activity": "quiz-42"}},
        "request_payload": {"deep_linking": True},
        "nrps_core_launch": {"ags": False},
        "email_no_context": {"name": None, "context": False, "ags": False, "nrps": False},
    }
    for suffix, change in changes.items():
        if variant.endswith(suffix):
            for name, value in change.items():
                setattr(intent, name, value)
    return intent


@pytest.mark.parametrize("variant", sorted(VALID_VARIANTS))
def test_certification_valid_launch_from_lti1p3platform(pair: Pair, variant: str) -> None:
    result = pair.launch(thirdparty_intent(variant))
    assert result.code, f"{result.final.status_code} {result.error_code}"
    record = pair.redeem(result.code)
    assert record["lti"]["issuer"] == pair.platform.issuer
    (_, message_type), _ = VALID_VARIANTS[variant]
    assert record["message_type"] == message_type
    if variant.endswith("no_role"):
        assert record["roles"]["full"] == []
    if variant.endswith("no_context"):
        assert record["context"] is None and record["writeback"]["reasons"][0]["code"] == "LTI_NO_CONTEXT"


@pytest.mark.parametrize("case", sorted(set(EXPECTED) - NOT_HERE, key=str), ids=str)
def test_invalid_launch_from_lti1p3platform_is_refused(pair: Pair, case: Case) -> None:
    status, code = EXPECTED[case]
    before = stored(pair.gateway)
    result = pair.launch(Intent(case=case))
    assert (result.final.status_code, result.error_code) == (status, code)
    assert stored(pair.gateway) == before


def test_deep_link_round_trip_with_lti1p3platform(pair: Pair) -> None:
    result = pair.launch(Intent(deep_linking=True))
    api = pair.gateway.api("launches")
    record = api.post(f"{pair.gateway.url}/api/v1/launches/redeem", json={"code": result.code}, timeout=10).json()
    items = [{"type": "ltiResourceLink", "title": "Ratio quiz", "lineItem": {"scoreMaximum": 5}},
             {"type": "html", "html": "<p>2:3</p>"}]
    answer = api.post(pair.gateway.url + record["deep_linking"]["response_url"], json={"content_items": items},
                      timeout=10).json()
    posted = requests.post(answer["return_url"], data={"JWT": answer["jwt"]}, timeout=10)
    assert posted.status_code == 200, posted.text
    assert pair.platform.deep_link_items[-1] == items  # the library verified our signature and item types


def test_new_deployment_from_lti1p3platform_waits_for_approval(pair: Pair) -> None:
    before = stored(pair.gateway)
    result = pair.launch(Intent(case=Case.UNKNOWN_DEPLOYMENT, send_deployment_hint=False))
    assert (result.final.status_code, result.error_code) == (403, "LTI_DEPLOYMENT_UNKNOWN")
    after = stored(pair.gateway)
    assert after == {**before, "lti_deployments": before["lti_deployments"] + 1}
    again = pair.launch(Intent(case=Case.UNKNOWN_DEPLOYMENT, send_deployment_hint=False))
    assert again.error_code == "LTI_DEPLOYMENT_PENDING" and stored(pair.gateway) == after
    registration = find_registration(pair.gateway.services.db, pair.platform.issuer, CLIENT_ID)
    assert registration is not None
    with pair.gateway.services.db.transaction() as s:
        pending = find_deployment(s, registration.id, UNKNOWN_DEPLOYMENT)
    assert pending is not None and pending.status == "pending"


def test_replayed_launch_from_lti1p3platform_is_refused(pair: Pair) -> None:
    browser = Browser()
    try:
        first = launch(browser, pair.platform.login_url(Intent()))
        assert first.code
        before = stored(pair.gateway)
        replay = browser.post(f"{pair.gateway.url}/lti/launch", first.form_fields)
        assert "LTI_ID_TOKEN_REPLAYED" in replay.text and stored(pair.gateway) == before
    finally:
        browser.close()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda f: f.pop("state"), "LTI_STATE_MISSING"),
        (lambda f: f.update(state="a-state-the-gateway-never-issued"), "LTI_STATE_UNKNOWN"),
    ],
    ids=["missing", "unknown"],
)
def test_missing_or_unknown_state_from_lti1p3platform_is_refused(
    pair: Pair, change: Callable[[dict[str, str]], object], code: str
) -> None:
    before = stored(pair.gateway)
    result = pair.launch(Intent(), tamper=change)
    assert (result.final.status_code, result.error_code) == (400, code)
    assert stored(pair.gateway) == before


def test_state_begun_in_another_browser_from_lti1p3platform_is_a_mismatch(pair: Pair) -> None:
    victim, attacker = Browser(), Browser()
    try:
        launch(victim, pair.platform.login_url(Intent()), tamper=lambda f: f.clear())  # a login of its own
        stolen: dict[str, str] = {}
        launch(attacker, pair.platform.login_url(Intent()), tamper=lambda f: (stolen.update(f), f.clear()))
        before = stored(pair.gateway)
        forced = victim.post(f"{pair.gateway.url}/lti/launch", stolen)  # login CSRF with the library's launch
        page = parse_page(forced.text)
        assert (forced.status_code, page.error_code) == (400, "LTI_STATE_MISMATCH")
        assert "open-new-window" in page.links
        assert stored(pair.gateway) == before
    finally:
        victim.close()
        attacker.close()


@pytest.mark.parametrize("hinted", [True, False], ids=["at-login", "at-launch"])
def test_disabled_deployment_from_lti1p3platform_is_refused(pair: Pair, hinted: bool) -> None:
    deployment = pair.deployment_ref()
    with pair.gateway.services.db.transaction() as s:
        management.set_deployment_status(s, deployment, "disabled", actor="test")
    try:
        before = stored(pair.gateway)
        result = pair.launch(Intent(send_deployment_hint=hinted))
        assert (result.final.status_code, result.error_code) == (403, "LTI_DEPLOYMENT_DISABLED")
        # Named in the login, it is refused before the library is asked; otherwise on the library's launch post.
        assert (result.auth_url is None) is hinted
        assert stored(pair.gateway) == before
    finally:
        with pair.gateway.services.db.transaction() as s:
            management.set_deployment_status(s, deployment, "active", actor="test")
