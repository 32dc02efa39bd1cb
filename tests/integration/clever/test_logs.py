"""No token, code, state or personal data reaches the gateway's JSON log, whatever the Clever flow does."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from gateway.ops.logs import JsonFormatter
from tests.support.clever_flows import app_login, callback_url, login_record, portal_login, sign_in
from tests.support.clever_roster import connect_and_sync, seed_district, sync_now
from tests.support.clever_sim import Browser, RunningClever, query
from tests.support.gateway import GatewayUnderTest


@pytest.fixture
def gateway_log() -> Iterator[io.StringIO]:
    """The gateway logger's JSON output, at INFO, for this test only."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("gateway")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_flows_leave_no_secrets_or_personal_data_in_logs(clever_gateway: GatewayUnderTest, clever: RunningClever,
                                                         browser: Browser, gateway_log: io.StringIO) -> None:
    sim = clever.sim
    seeded = seed_district(sim)
    district_token = sim.token_for(seeded.district)
    connect_and_sync(clever_gateway)
    handoff_codes = []
    portal_login(clever_gateway, clever, browser, seeded.teacher)
    handoff_codes.append(query(browser.last_url)["code"])
    login_record(clever_gateway, browser)
    app_login(clever_gateway, clever, browser, seeded.students[0], authorized_by="teacher")
    handoff_codes.append(query(browser.last_url)["code"])
    states = [query(h.url).get("state", "") for h in browser.hops if "/oauth/authorize" in h.url]
    # A refusal (replayed code after an invalid grant) and a failed sync, so error paths log too.
    sign_in(browser, clever, seeded.students[1])
    browser.go(f"{clever.url}/sim/portal", stop_at=callback_url(clever_gateway))
    sim.codes[query(browser.last_url)["code"]].used = True
    browser.go(browser.last_url)
    # The roster API, found and not found: ids in its paths are Clever's ids of people.
    missing = "5f0e" + "a1" * 10
    roster = clever_gateway.api("roster")
    for path, status in ((f"/users/{seeded.teacher}", 200), (f"/users/{missing}", 404),
                         (f"/sections/{seeded.section}/users", 200), (f"/sections/{missing}/users", 404)):
        assert roster.get(f"{clever_gateway.url}/api/v1/clever{path}", timeout=5).status_code == status
    sim.revoke_district(seeded.district)
    sync_now(clever_gateway, seeded.district)

    lines = [json.loads(line) for line in gateway_log.getvalue().splitlines()]
    messages = {line["msg"] for line in lines}
    assert {"clever login", "clever login failed", "clever roster sync finished", "request", "refused"} <= messages
    refused = [line for line in lines if line["msg"] == "refused" and line.get("error_code") == "CLEVER_USER_NOT_FOUND"]
    assert refused and refused[0]["endpoint"] == "/api/v1/clever/users/<user_id>"
    text = gateway_log.getvalue()
    secrets = [district_token, sim.client_secret, *sim.sso_tokens, *sim.codes, *handoff_codes, *filter(None, states)]
    personal = ["Grace", "Hopper", "grace@willow.org", "Kid0", "Last1", "kid0@willow.org", "S-0", "T-1",
                seeded.teacher, *seeded.students, missing]
    for value in secrets + personal:
        assert value not in text, f"{value!r} leaked into the gateway log"
