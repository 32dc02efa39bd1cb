"""``/api/v1/deliveries`` over real HTTP on both engines: status, dead-letter lists, replay, scoping, audit."""

from __future__ import annotations

from typing import Any

import requests

from gateway.store.repositories.audit import AuditRepository
from tests.support.flaky_remote import OK, FlakyRemote, status
from tests.support.gateway import GatewayUnderTest
from tests.support.outbox import enqueue, force, row, running, settle


def _key(gw: GatewayUnderTest, *scopes: str) -> tuple[str, requests.Session]:
    info, key = gw.services.api_keys.create("vendor", list(scopes))
    return info.id, gw.api(key=key)


def _problem(response: requests.Response, status_code: int, code: str) -> dict[str, Any]:
    assert response.status_code == status_code, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


def test_a_delivery_reads_with_its_state_attempts_and_remote_answer(
    wb_gateway: GatewayUnderTest, remote: FlakyRemote
) -> None:
    gw = wb_gateway
    key_id, api = _key(gw, "writeback")
    remote.script("f", status(409, body='{"message": "assignment is closed"}'))
    delivery_id = enqueue(gw.services, case="f", api_key_id=key_id)

    queued = api.get(f"{gw.url}/api/v1/deliveries/{delivery_id}", timeout=5).json()
    assert (queued["state"], queued["attempts"], queued["remote"]) == ("queued", 0, None)
    assert queued["next_attempt_at"] is not None

    with running(gw.services):
        settle(gw.services, delivery_id)
    failed = api.get(f"{gw.url}/api/v1/deliveries/{delivery_id}", timeout=5).json()
    assert failed["state"] == "failed"
    assert failed["attempts"] == 1
    assert failed["remote"] == {"status": 409, "body": '{"message": "assignment is closed"}', "headers": {}}
    assert failed["next_attempt_at"] is None and failed["last_attempt_at"] is not None


def test_deliveries_are_scoped_to_their_key_unless_admin(wb_gateway: GatewayUnderTest) -> None:
    gw = wb_gateway
    owner_id, owner = _key(gw, "writeback")
    _, stranger = _key(gw, "writeback")
    _, admin = _key(gw, "writeback", "admin")
    _, launches_only = _key(gw, "launches")
    delivery_id = enqueue(gw.services, case="x", api_key_id=owner_id)
    url = f"{gw.url}/api/v1/deliveries/{delivery_id}"

    assert owner.get(url, timeout=5).status_code == 200
    _problem(stranger.get(url, timeout=5), 404, "DELIVERY_NOT_FOUND")
    assert admin.get(url, timeout=5).json()["id"] == delivery_id
    _problem(launches_only.get(url, timeout=5), 403, "INSUFFICIENT_SCOPE")
    assert stranger.get(f"{gw.url}/api/v1/deliveries", timeout=5).json() == {"data": [], "next_cursor": None}
    _problem(stranger.post(f"{url}/replay", timeout=5), 404, "DELIVERY_NOT_FOUND")


def test_dead_letters_list_page_by_cursor(wb_gateway: GatewayUnderTest) -> None:
    gw = wb_gateway
    key_id, api = _key(gw, "writeback")
    dead = [enqueue(gw.services, case=f"d{i}", api_key_id=key_id) for i in range(5)]
    for delivery_id in dead:
        force(gw.services, delivery_id, state="dead", attempts=4)
    enqueue(gw.services, case="alive", api_key_id=key_id)

    seen: list[str] = []
    url: str | None = f"{gw.url}/api/v1/deliveries?state=dead&limit=2"
    pages = 0
    while url:
        response = api.get(url, timeout=5)
        body = response.json()
        seen += [d["id"] for d in body["data"]]
        assert all(d["state"] == "dead" for d in body["data"])
        pages += 1
        if body["next_cursor"]:
            assert 'rel="next"' in response.headers["Link"]
            url = f"{gw.url}/api/v1/deliveries?state=dead&limit=2&cursor={body['next_cursor']}"
        else:
            assert "Link" not in response.headers
            url = None
    assert (seen, pages) == (dead, 3)


def test_list_filters_are_validated(wb_gateway: GatewayUnderTest) -> None:
    gw = wb_gateway
    _, api = _key(gw, "writeback")
    base = f"{gw.url}/api/v1/deliveries"
    assert _problem(api.get(f"{base}?state=lost", timeout=5), 422, "VALIDATION_FAILED")["errors"][0]["field"] == "state"
    _problem(api.get(f"{base}?limit=0", timeout=5), 422, "VALIDATION_FAILED")
    _problem(api.get(f"{base}?cursor=not-a-cursor", timeout=5), 400, "INVALID_CURSOR")


def test_replay_one_requeues_resets_attempts_and_is_audited(
    wb_gateway: GatewayUnderTest, remote: FlakyRemote
) -> None:
    gw = wb_gateway
    key_id, api = _key(gw, "writeback")
    remote.script("r", status(500))
    delivery_id = enqueue(gw.services, case="r", api_key_id=key_id, score_given=4)
    with running(gw.services):
        settle(gw.services, delivery_id)
        assert row(gw.services, delivery_id).state == "dead"
        remote.script("r", OK)

        response = api.post(f"{gw.url}/api/v1/deliveries/{delivery_id}/replay", timeout=5)
        assert response.status_code == 202, response.text
        assert response.json()["attempts"] == 0
        assert response.json()["state"] in ("queued", "delivering", "delivered")
        settle(gw.services, delivery_id)
    assert (row(gw.services, delivery_id).state, row(gw.services, delivery_id).attempts) == ("delivered", 1)
    assert remote.accepted_ids() == [delivery_id]
    with gw.services.db.transaction() as s:
        entries = AuditRepository(s).list(action="delivery.replay")
        assert [(e.actor, e.target, e.details["from_state"]) for e in entries] == [
            (f"api_key:{key_id}", f"delivery:{delivery_id}", "dead")
        ]
    again = api.post(f"{gw.url}/api/v1/deliveries/{delivery_id}/replay", timeout=5)
    assert _problem(again, 409, "DELIVERY_NOT_REPLAYABLE")["state"] == "delivered"


def test_replay_many_by_ids_reports_each_one(wb_gateway: GatewayUnderTest) -> None:
    gw = wb_gateway
    key_id, api = _key(gw, "writeback")
    other_id, _ = _key(gw, "writeback")
    dead = enqueue(gw.services, case="a", api_key_id=key_id)
    failed = enqueue(gw.services, case="b", api_key_id=key_id)
    delivered = enqueue(gw.services, case="c", api_key_id=key_id)
    someone_elses = enqueue(gw.services, case="d", api_key_id=other_id)
    force(gw.services, dead, state="dead", attempts=4)
    force(gw.services, failed, state="failed", attempts=1)
    force(gw.services, delivered, state="delivered", attempts=1)
    force(gw.services, someone_elses, state="dead", attempts=4)

    ids = [dead, failed, delivered, someone_elses, "dlv_unknown", dead]
    response = api.post(f"{gw.url}/api/v1/deliveries/replay", json={"ids": ids}, timeout=5)
    assert response.status_code == 202, response.text
    assert response.json() == {
        "replayed": [dead, failed],
        "not_replayable": [{"id": delivered, "state": "delivered"}],
        "not_found": [someone_elses, "dlv_unknown"],
        "more": False,
    }
    assert {row(gw.services, i).state for i in (dead, failed)} == {"queued"}
    assert row(gw.services, someone_elses).state == "dead"


def test_replay_many_by_state_with_a_limit(wb_gateway: GatewayUnderTest) -> None:
    gw = wb_gateway
    key_id, api = _key(gw, "writeback")
    dead = [enqueue(gw.services, case=f"d{i}", api_key_id=key_id) for i in range(3)]
    for delivery_id in dead:
        force(gw.services, delivery_id, state="dead", attempts=4)
    url = f"{gw.url}/api/v1/deliveries/replay"
    first = api.post(url, json={"state": "dead", "limit": 2}, timeout=5).json()
    assert (first["replayed"], first["more"]) == (dead[:2], True)
    second = api.post(url, json={"state": "dead"}, timeout=5).json()
    assert (second["replayed"], second["more"]) == (dead[2:], False)


def test_replay_bodies_are_validated(wb_gateway: GatewayUnderTest) -> None:
    gw = wb_gateway
    _, api = _key(gw, "writeback")
    url = f"{gw.url}/api/v1/deliveries/replay"
    for body in ({}, {"ids": []}, {"ids": "dlv_1"}, {"state": "queued"}, {"ids": ["x"], "state": "dead"},
                 {"state": "dead", "limit": 0}, {"ids": ["x"], "limit": 3}, {"ids": ["x"], "extra": 1}):
        _problem(api.post(url, json=body, timeout=5), 422, "VALIDATION_FAILED")
    _problem(api.post(url, data="not json", headers={"Content-Type": "application/json"}, timeout=5),
             422, "VALIDATION_FAILED")
