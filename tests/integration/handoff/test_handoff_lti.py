"""A real LTI launch hands off a code that only the configured vendor key can redeem."""

from __future__ import annotations

from pathlib import Path

from gateway.api.keys import ApiKeyService
from gateway.store import Database
from tests.support.lti_flow import launch
from tests.support.lti_sandbox import lti_world


def test_a_launch_code_bound_to_the_vendor_key_refuses_other_keys(sqlite_url: str, keys_dir: Path) -> None:
    database = Database(sqlite_url)
    vendor, vendor_key = ApiKeyService(database).create("lesson-app", ["launches"])
    _, other_key = ApiKeyService(database).create("other-app", ["launches"])
    database.dispose()

    with lti_world(sqlite_url, keys_dir, handoff_api_key_id=vendor.id) as world:
        result = launch(world.browser(), world.platform.prepare())
        assert result.code, result.final.text
        stolen = world.redeem(result.code, key=other_key)
        assert (stolen.status_code, stolen.json()["code"]) == (403, "HANDOFF_CODE_WRONG_KEY")
        mine = world.redeem(result.code, key=vendor_key)
        assert mine.status_code == 200 and mine.json()["kind"] == "lti"
        after = world.redeem(result.code, key=other_key)
        assert (after.status_code, after.json()["code"]) == (403, "HANDOFF_CODE_WRONG_KEY")
