"""A bounded schemathesis run: generated requests against a live gateway, every answer held to openapi.yaml.

Issue 17: the contract must be whole, every constraint the server enforces and every status it can answer
described. Each generated case is sent three times, with a key of every scope, with a key of the wrong scope and
with no key; each answer must be no 5xx, a documented status, a documented content type, a body that fits the
schema and documented headers. Fixed seed and a few examples an operation, so the run is repeatable and short.
The totals (operations, cases, failures) are printed at the end of the module.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, seed, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

from tests.support.clever_sim import start_clever, start_gateway_with_clever
from tests.support.databases import DatabaseFactory
from tests.support.gateway import GatewayUnderTest

pytestmark = pytest.mark.xdist_group(__name__)

SPEC = Path(__file__).resolve().parents[3] / "openapi.yaml"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
EXAMPLES = 6

# The coverage phase (every boundary value and undocumented method of every operation) takes minutes here; the
# generated phase with a fixed seed covers the contract in seconds.
CONFIG = SchemathesisConfig.from_dict({
    "seed": 17,
    "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    "generation": {"max-examples": EXAMPLES},
})
schema = schemathesis.openapi.from_path(SPEC, config=CONFIG).exclude(tag="dev-sandbox")
TOTALS: Counter[str] = Counter()
OPERATIONS: set[str] = set()


@pytest.fixture(scope="module")
def live(db_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    # Dynamic Registration off: its generated configuration URLs must never be fetched. Limits high: the run
    # sends many failed keys from one address on purpose.
    # Clever is the simulator, which refuses made-up codes as Clever does (400 invalid_grant).
    clever = start_clever()
    gw: GatewayUnderTest = start_gateway_with_clever(
        db_factory.sqlite_url(), tmp_path_factory.mktemp("keys"), clever, lti_dynamic_registration="off",
        rate_limit_api_auth_failures="100000/minute", rate_limit_lti_launch="100000/minute",
        rate_limit_clever="100000/minute", rate_limit_redeem_failures="100000/minute",
    )
    keys = {
        "full": {"Authorization": "Bearer " + gw.api_key("launches", "writeback", "roster", "admin")},
        "wrong": {"Authorization": "Bearer " + gw.api_key("roster", name="wrong-scope")},
        "none": {},
    }
    try:
        yield {"url": gw.url, "keys": keys}
    finally:
        gw.close()
        clever.close()
        print(f"\nschemathesis: {len(OPERATIONS)} operations, {TOTALS['cases']} cases, {TOTALS['calls']} calls, "
              f"{TOTALS['server_errors']} server errors, {TOTALS['off_spec']} off-spec")
    gw.contract.assert_clean()


@schema.parametrize()
@seed(17)
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_every_answer_is_on_the_spec(case: Any, live: dict[str, Any]) -> None:
    OPERATIONS.add(case.operation.label)
    TOTALS["cases"] += 1
    for headers in live["keys"].values():
        sent = dict(case.headers or {})
        sent.pop("Authorization", None)
        case.headers = {**sent, **headers}
        TOTALS["calls"] += 1
        response = case.call(base_url=live["url"], timeout=30)
        if response.status_code >= 500:
            TOTALS["server_errors"] += 1
        try:
            case.validate_response(response, checks=CHECKS[1:])
        except BaseException:
            TOTALS["off_spec"] += 1
            raise
        case.validate_response(response, checks=CHECKS[:1])


