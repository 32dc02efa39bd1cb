"""The launch record's ``target_link_uri``: the gateway's launch URL, never a query the placement carried.

The gateway defines no query on its launch URL but accepts one (LMS admins add ``?placement=...``); the record
drops it, so ``?next=https://evil.example`` cannot reach the vendor looking like a value the gateway checked.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.lti import claims as c
from sandbox.lms import LaunchIntent
from tests.support.lti_flow import launch
from tests.support.lti_sandbox import LtiWorld

# One worker runs this module, so its module-scoped world (servers, keys, launches) is built once.
pytestmark = pytest.mark.xdist_group(__name__)


@pytest.mark.parametrize("query", ["?next=https://evil.example/phish", "?placement=course_navigation&next=%2F%2Fevil"])
def test_record_carries_the_launch_url_without_the_query(shared_world: LtiWorld, query: str) -> None:
    launch_url = shared_world.gateway.services.lti.config.launch_url
    intent = LaunchIntent(extra_claims={c.TARGET_LINK_URI: launch_url + query})
    result = launch(shared_world.browser(), shared_world.platform.prepare(intent))
    assert result.code, result.final.text[:300]  # a query is accepted ...
    response = shared_world.redeem(result.code)
    assert response.status_code == 200, response.text
    record: dict[str, Any] = response.json()
    assert record["target_link_uri"] == launch_url  # ... and not handed on
    assert "evil" not in json.dumps(record) and "placement" not in json.dumps(record)
