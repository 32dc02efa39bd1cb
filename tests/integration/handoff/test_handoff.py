"""Redeeming one-time hand-off codes over the API: once, in time, by the right key."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select, update

from gateway.handoff.errors import HandoffNotConfigured
from gateway.handoff.service import Handoff
from gateway.store.models.core import HandoffCodeRow, LaunchRow
from tests.support.gateway import GatewayUnderTest, start_gateway
from tests.support.lti_records import sample_lti_record


def _issue(gateway: GatewayUnderTest, kind: str, record: dict[str, Any], **fields: Any) -> Handoff:
    with gateway.services.db.transaction() as s:
        return gateway.services.handoff.issue(s, kind, record, **fields)


def _redeem(session: requests.Session, gateway: GatewayUnderTest, code: str) -> requests.Response:
    return session.post(f"{gateway.url}/api/v1/launches/redeem", json={"code": code}, timeout=5)


def test_code_redeems_once_then_launch_is_readable(gateway_on: GatewayUnderTest) -> None:
    gw = gateway_on
    issued = _issue(gw, "lti", sample_lti_record("usr_1"), user_id=None)
    api = gw.api("launches")

    first = _redeem(api, gw, issued.code)
    assert first.status_code == 200
    assert first.json()["id"] == issued.launch_id
    assert first.json()["user"]["id"] == "usr_1"

    second = _redeem(api, gw, issued.code)
    assert second.status_code == 409
    assert second.json()["code"] == "HANDOFF_CODE_ALREADY_REDEEMED"
    assert second.json()["launch_id"] == issued.launch_id

    again = api.get(f"{gw.url}/api/v1/launches/{issued.launch_id}", timeout=5)
    assert again.status_code == 200 and again.json()["id"] == issued.launch_id


def test_redirect_url_carries_the_code(gateway: GatewayUnderTest) -> None:
    issued = _issue(gateway, "lti", sample_lti_record(), user_id=None)
    assert issued.redirect_url.startswith(gateway.services.settings.vendor_launch_url)
    assert issued.redirect_url.endswith(f"code={issued.code}")


def test_expired_code_is_410(gateway: GatewayUnderTest) -> None:
    issued = _issue(gateway, "lti", sample_lti_record(), user_id=None)
    with gateway.services.db.transaction() as s:
        s.execute(update(HandoffCodeRow).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    response = _redeem(gateway.api("launches"), gateway, issued.code)
    assert response.status_code == 410
    assert response.json()["code"] == "HANDOFF_CODE_EXPIRED"
    with gateway.services.db.transaction() as s:
        assert s.scalars(select(HandoffCodeRow.redeemed_at)).one() is None


def test_code_bound_to_another_key_is_403(gateway: GatewayUnderTest) -> None:
    owner, _ = gateway.services.api_keys.create("app-a", ["launches"])
    issued = _issue(gateway, "lti", sample_lti_record(), user_id=None, api_key_id=owner.id)
    response = _redeem(gateway.api("launches", ), gateway, issued.code)
    assert response.status_code == 403
    assert response.json()["code"] == "HANDOFF_CODE_WRONG_KEY"


def test_unknown_and_malformed_codes(gateway: GatewayUnderTest) -> None:
    api = gateway.api("launches")
    unknown = _redeem(api, gateway, "A" * 43)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "HANDOFF_CODE_UNKNOWN")
    malformed = _redeem(api, gateway, "short")
    assert (malformed.status_code, malformed.json()["code"]) == (400, "HANDOFF_CODE_INVALID")
    no_body = api.post(f"{gateway.url}/api/v1/launches/redeem", data="nope", timeout=5)
    assert (no_body.status_code, no_body.json()["code"]) == (422, "VALIDATION_FAILED")


def test_other_key_cannot_read_a_redeemed_launch(gateway: GatewayUnderTest) -> None:
    issued = _issue(gateway, "lti", sample_lti_record(), user_id=None)
    assert _redeem(gateway.api("launches"), gateway, issued.code).status_code == 200
    other = gateway.api("launches").get(f"{gateway.url}/api/v1/launches/{issued.launch_id}", timeout=5)
    assert (other.status_code, other.json()["code"]) == (404, "LAUNCH_NOT_FOUND")


def test_concurrent_redeems_hand_the_launch_to_one_caller(gateway_on: GatewayUnderTest) -> None:
    gw = gateway_on
    issued = _issue(gw, "lti", sample_lti_record(), user_id=None)
    sessions = [gw.api("launches") for _ in range(6)]
    barrier = threading.Barrier(len(sessions))
    statuses: list[int] = []

    def redeem(session: requests.Session) -> None:
        barrier.wait()
        statuses.append(_redeem(session, gw, issued.code).status_code)

    threads = [threading.Thread(target=redeem, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [409] * 5


def test_expired_launches_are_purged_with_their_codes(gateway_on: GatewayUnderTest) -> None:
    gw = gateway_on
    old = _issue(gw, "lti", sample_lti_record(), user_id=None)
    fresh = _issue(gw, "lti", sample_lti_record(), user_id=None)
    with gw.services.db.transaction() as s:
        s.execute(
            update(LaunchRow).where(LaunchRow.id == old.launch_id)
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    job = next(j for j in gw.services.periodic_jobs if j.name == "handoff.purge-expired-launches")
    job.run()
    with gw.services.db.transaction() as s:
        assert s.scalars(select(LaunchRow.id)).all() == [fresh.launch_id]
        assert s.scalars(select(HandoffCodeRow.launch_id)).all() == [fresh.launch_id]


def test_codes_bound_by_setting_to_a_missing_key_refuse_clearly(sqlite_url: str, keys_dir: Path) -> None:
    gw = start_gateway(sqlite_url, keys_dir, handoff_api_key_id="0000000000000000")
    try:
        with pytest.raises(HandoffNotConfigured):
            _issue(gw, "lti", sample_lti_record(), user_id=None)
        with gw.services.db.transaction() as s:
            assert s.scalars(select(LaunchRow.id)).all() == []
    finally:
        gw.close()
