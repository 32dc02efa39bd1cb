"""Every invalid launch the simulated platform can send is refused with its own code, a page, a metric, and no rows.

The first twelve are the 1EdTech certification invalid cases; the rest are the further
attacks and faults a tool must refuse.
"""

from __future__ import annotations

import logging

import pytest
import requests

from sandbox.lms import LaunchIntent
from sandbox.lms.cases import CERTIFICATION_INVALID, Case
from tests.support.lti_cases import EXPECTED
from tests.support.lti_flow import launch, parse_page
from tests.support.lti_sandbox import LtiWorld, stored

# One worker runs this module, so its module-scoped world (servers, keys, launches) is built once.
pytestmark = pytest.mark.xdist_group(__name__)

# Cases that need more than a switch (a second registration, a pending row): test_launch_flow.py.
ELSEWHERE = {Case.VALID, Case.UNKNOWN_DEPLOYMENT, Case.AUD_MISMATCH}
HERE = sorted(set(EXPECTED) - ELSEWHERE, key=str)


def test_every_case_is_covered_and_codes_are_distinct_where_the_failure_differs() -> None:
    assert set(EXPECTED) | ELSEWHERE == set(Case)
    assert set(EXPECTED) == set(Case) - {Case.VALID, Case.UNKNOWN_DEPLOYMENT}, "every refusal has its expected code"
    assert set(EXPECTED) >= CERTIFICATION_INVALID
    codes = [code for case, (_, code) in EXPECTED.items() if case not in (Case.EXP_IAT_INVALID,)]
    assert len(codes) == len(set(codes)), "each kind of failure has its own code"


def _refusal_metric(world: LtiWorld, code: str) -> float:
    text = requests.get(f"{world.gateway.url}/metrics", timeout=5).text
    for line in text.splitlines():
        if line.startswith(f'gateway_lti_refusals_total{{code="{code}"}}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.mark.parametrize("case", HERE, ids=str)
def test_invalid_launch_is_refused_with_its_code_and_stores_nothing(shared_world: LtiWorld, case: Case) -> None:
    status, code = EXPECTED[case]
    before, refusals = stored(shared_world.gateway), _refusal_metric(shared_world, code)

    result = launch(shared_world.browser(), shared_world.platform.prepare(LaunchIntent(case=case)))

    assert result.final.status_code == status, result.final.text[:500]
    assert result.final.headers["Content-Type"].startswith("text/html")
    page = parse_page(result.final.text)
    assert page.error_code == code
    assert "What you can do:" in result.final.text
    assert result.final.headers["Cache-Control"] == "no-store"
    assert result.code is None
    assert stored(shared_world.gateway) == before
    assert _refusal_metric(shared_world, code) == refusals + 1


def test_login_required_offers_the_tool_in_a_new_window(shared_world: LtiWorld) -> None:
    result = launch(shared_world.browser(), shared_world.platform.prepare(LaunchIntent(case=Case.LOGIN_REQUIRED)))
    retry = parse_page(result.final.text).links["open-new-window"]
    assert retry.startswith(shared_world.gateway.services.lti.config.login_url + "?")
    assert "lti_storage_target" not in retry


def test_refusal_is_problem_json_for_json_clients_and_logged(
    shared_world: LtiWorld, caplog: pytest.LogCaptureFixture
) -> None:
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("gateway.app")
    logger.addHandler(handler)
    try:
        browser = shared_world.browser()
        result = launch(
            browser, shared_world.platform.prepare(LaunchIntent(case=Case.NO_SUB)),
            tamper=lambda fields: None,
        )
        again = browser.post(f"{shared_world.gateway.url}/lti/launch", result.form_fields,
                             headers={"Accept": "application/json"})
    finally:
        logger.removeHandler(handler)
    assert again.headers["Content-Type"].startswith("application/problem+json")
    assert again.json()["code"] == "LTI_SUB_MISSING"
    refused = [r for r in records if r.getMessage() == "refused"]
    assert {r.fields["error_code"] for r in refused} == {"LTI_SUB_MISSING"}  # type: ignore[attr-defined]
