"""``Idempotency-Key`` through real ``/api/v1`` writes (the replay routes), on both engines."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import requests
from sqlalchemy import update

from gateway.store.models.writeback import IdempotencyKeyRow
from gateway.store.repositories.audit import AuditRepository
from gateway.store.repositories.idempotency import IdempotencyRepository
from gateway.writeback.housekeeping import purge_idempotency_keys
from tests.support.gateway import GatewayUnderTest
from tests.support.outbox import enqueue, force, row


def _dead(gw: GatewayUnderTest, key_id: str, n: int = 1) -> list[str]:
    ids = [enqueue(gw.services, case=f"d{i}", api_key_id=key_id) for i in range(n)]
    for delivery_id in ids:
        force(gw.services, delivery_id, state="dead", attempts=4)
    return ids


def _client(gw: GatewayUnderTest, *scopes: str) -> tuple[str, requests.Session]:
    info, key = gw.services.api_keys.create("vendor", list(scopes) or ["writeback"])
    return info.id, gw.api(key=key)


def _replays(gw: GatewayUnderTest) -> int:
    with gw.services.db.transaction() as s:
        return len(AuditRepository(s).list(action="delivery.replay"))


def _post(api: requests.Session, url: str, key: str | None, **kwargs: Any) -> requests.Response:
    headers = dict(kwargs.pop("headers", {}))
    if key is not None:
        headers["Idempotency-Key"] = key
    return api.post(url, headers=headers, timeout=10, **kwargs)


def test_a_repeat_returns_the_first_answer_without_running_again(wb_gateway: GatewayUnderTest) -> None:
    gw = wb_gateway
    key_id, api = _client(gw)
    (delivery_id,) = _dead(gw, key_id)
    url = f"{gw.url}/api/v1/deliveries/{delivery_id}/replay"

    first = _post(api, url, "replay-1")
    assert first.status_code == 202 and "Idempotent-Replayed" not in first.headers
    force(gw.services, delivery_id, state="dead")  # a second run would replay it again
    again = _post(api, url, "replay-1")
    assert (again.status_code, again.json()) == (202, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Content-Type"] == first.headers["Content-Type"]
    assert _replays(gw) == 1
    assert row(gw.services, delivery_id).state == "dead"

    without_key = _post(api, url, None)
    assert without_key.status_code == 202 and _replays(gw) == 2


def test_json_bodies_compare_canonically(wb_gateway: GatewayUnderTest) -> None:
    gw = wb_gateway
    key_id, api = _client(gw)
    a, b = _dead(gw, key_id, 2)
    url = f"{gw.url}/api/v1/deliveries/replay"
    json_type = {"Content-Type": "application/json"}
    first = _post(api, url, "k", data=f'{{"ids": ["{a}", "{b}"]}}', headers=json_type)
    again = _post(api, url, "k", data=f'{{ "ids":["{a}","{b}"] }}', headers=json_type)
    assert first.status_code == again.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _replays(gw) == 2


def test_the_same_key_for_another_request_is_422(wb_gateway: GatewayUnderTest) -> None:
    gw = wb_gateway
    key_id, api = _client(gw)
    a, b = _dead(gw, key_id, 2)
    base = f"{gw.url}/api/v1/deliveries"
    assert _post(api, f"{base}/replay", "k", json={"ids": [a]}).status_code == 202
    for url, body in ((f"{base}/replay", {"ids": [b]}), (f"{base}/{b}/replay", None)):
        response = _post(api, url, "k", json=body)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert row(gw.services, b).state == "dead"
    assert _replays(gw) == 1


def test_keys_are_scoped_per_api_key(wb_gateway: GatewayUnderTest) -> None:
    gw = wb_gateway
    key_id, api = _client(gw)
    other_id, other = _client(gw)
    (mine,) = _dead(gw, key_id)
    (theirs,) = _dead(gw, other_id)
    assert _post(api, f"{gw.url}/api/v1/deliveries/replay", "shared", json={"ids": [mine]}).status_code == 202
    response = _post(other, f"{gw.url}/api/v1/deliveries/replay", "shared", json={"ids": [theirs]})
    assert response.status_code == 202 and "Idempotent-Replayed" not in response.headers
    assert response.json()["replayed"] == [theirs]


def test_malformed_keys_are_400_and_change_nothing(wb_gateway: GatewayUnderTest) -> None:
    gw = wb_gateway
    key_id, api = _client(gw)
    (delivery_id,) = _dead(gw, key_id)
    for bad in ("x" * 256, "", "tab\there", "caf\u00e9"):
        response = _post(api, f"{gw.url}/api/v1/deliveries/{delivery_id}/replay", bad)
        assert response.status_code == 400, (bad, response.text)
        assert response.json()["code"] == "IDEMPOTENCY_KEY_INVALID"
    assert row(gw.services, delivery_id).state == "dead"
    assert _post(api, f"{gw.url}/api/v1/deliveries/{delivery_id}/replay", "x" * 255).status_code == 202


def test_a_refused_request_is_not_remembered(wb_gateway: GatewayUnderTest) -> None:
    gw = wb_gateway
    key_id, api = _client(gw)
    (delivery_id,) = _dead(gw, key_id)
    url = f"{gw.url}/api/v1/deliveries/replay"
    assert _post(api, url, "fix-me", json={"ids": []}).status_code == 422
    fixed = _post(api, url, "fix-me", json={"ids": [delivery_id]})
    assert fixed.status_code == 202 and "Idempotent-Replayed" not in fixed.headers
    with gw.services.db.transaction() as s:
        assert IdempotencyRepository(s).count() == 1


def test_concurrent_duplicates_run_once(wb_gateway: GatewayUnderTest) -> None:
    gw = wb_gateway
    key_id, api_key = gw.services.api_keys.create("vendor", ["writeback"])
    ids = _dead(gw, key_id.id, 3)
    barrier = threading.Barrier(8)
    answers: list[requests.Response] = []
    lock = threading.Lock()

    def send() -> None:
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {api_key}"
            barrier.wait()
            response = _post(session, f"{gw.url}/api/v1/deliveries/replay", "once", json={"ids": ids})
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [r.status_code for r in answers] == [202] * 8, [r.text for r in answers]
    assert {r.json()["replayed"] == ids for r in answers} == {True}
    assert sum("Idempotent-Replayed" not in r.headers for r in answers) == 1
    assert _replays(gw) == 3


def test_expired_keys_are_purged_and_forgotten(wb_gateway: GatewayUnderTest) -> None:
    gw = wb_gateway
    key_id, api = _client(gw)
    (delivery_id,) = _dead(gw, key_id)
    url = f"{gw.url}/api/v1/deliveries/{delivery_id}/replay"
    assert _post(api, url, "old").status_code == 202
    with gw.services.db.transaction() as s:
        s.execute(update(IdempotencyKeyRow).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    assert purge_idempotency_keys(gw.services.db) == 1
    force(gw.services, delivery_id, state="dead")
    rerun = _post(api, url, "old")
    assert rerun.status_code == 202 and "Idempotent-Replayed" not in rerun.headers
    assert _replays(gw) == 2
