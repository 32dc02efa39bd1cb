"""Secure Sync over loopback: token discovery, a full sync, event increments, unshare and restore, faults."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from gateway.store.models.clever import CleverDistrictRow, CleverRosterUserRow
from tests.support.clever_roster import api_get, connect_and_sync, job, seed_district, sync_now, trigger
from tests.support.clever_sim import RunningClever
from tests.support.gateway import GatewayUnderTest
from tests.support.waiting import wait_until


def _ids(page: dict[str, object]) -> list[str]:
    data = page["data"]
    assert isinstance(data, list)
    return [item["id"] for item in data]


def test_full_sync_fills_the_roster(clever_gateway: GatewayUnderTest, clever: RunningClever) -> None:
    seeded = seed_district(clever.sim, students=3)
    job(clever_gateway, "clever.district_tokens").run()
    listed = api_get(clever_gateway, "/districts")
    assert [(d["id"], d["status"], d["sync"]["status"]) for d in listed["data"]] == [
        (seeded.district, "connected", "queued")]
    job(clever_gateway, "clever.roster_sync").run()

    district = api_get(clever_gateway, f"/districts/{seeded.district}")
    assert (district["name"], district["lms_state"], district["sync"]["status"]) == ("Willow SD", "success",
                                                                                      "succeeded")
    last = district["sync"]["last"]
    assert (last["mode"], last["ok"], last["error_code"], last["upserted"]) == ("full", True, None, 6)
    assert district["sync"]["progress"] is None
    registry = clever_gateway.services.metrics.registry
    assert registry.get_sample_value("gateway_clever_syncs_total", {"mode": "full", "outcome": "ok"}) == 1

    sections = api_get(clever_gateway, f"/districts/{seeded.district}/sections")
    assert sections["data"][0]["teacher_ids"] == [seeded.teacher]
    assert sections["data"][0]["student_count"] == 3

    first = api_get(clever_gateway, f"/sections/{seeded.section}/users", limit=2)
    assert len(first["data"]) == 2 and first["next_cursor"]
    rest = api_get(clever_gateway, f"/sections/{seeded.section}/users", limit=2, cursor=first["next_cursor"])
    members = first["data"] + rest["data"]
    assert rest["next_cursor"] is None
    assert sorted(m["id"] for m in members) == sorted([seeded.teacher, *seeded.students])
    teachers = api_get(clever_gateway, f"/sections/{seeded.section}/users", role="teacher")["data"]
    assert [(t["id"], t["section_role"]) for t in teachers] == [(seeded.teacher, "teacher")]

    kid = api_get(clever_gateway, f"/users/{seeded.students[0]}")
    assert kid["name"] == {"first": "Kid0", "last": "Last0"}
    assert (kid["email"], kid["sis_ids"], kid["roles"]) == ("kid0@willow.org", {"student": "S-0"}, ["student"])
    assert (kid["archived"], kid["user_id"]) == (False, None)
    assert api_get(clever_gateway, f"/users/{seeded.students[1]}")["email"] is None


def test_tokens_and_personal_data_are_encrypted_at_rest(clever_gateway: GatewayUnderTest,
                                                        clever: RunningClever) -> None:
    seeded = seed_district(clever.sim)
    connect_and_sync(clever_gateway)
    token = clever.sim.token_for(seeded.district)
    with clever_gateway.services.db.transaction() as s:
        district = s.get(CleverDistrictRow, seeded.district)
        assert district is not None and district.token_encrypted
        assert token not in district.token_encrypted
        profiles = " ".join(r.profile_encrypted for r in s.scalars(select(CleverRosterUserRow)))
    for plain in ("Grace", "Hopper", "grace@willow.org", "Kid0"):
        assert plain not in profiles


def test_event_increment(clever_gateway: GatewayUnderTest, clever: RunningClever) -> None:
    sim = clever.sim
    seeded = seed_district(sim)
    connect_and_sync(clever_gateway)
    sim.update(seeded.students[0], name={"first": "Kiddo", "last": "Renamed"})
    newcomer = sim.add_user(seeded.district, first="New", last="Kid", roles={"student": {"sis_id": "S-new"}})
    sim.update(seeded.section, students=[*seeded.students, newcomer])
    before = sum(1 for r in sim.requests if r.path == "/v3.1/users")

    district = sync_now(clever_gateway, seeded.district)
    assert (district["sync"]["last"]["mode"], district["sync"]["last"]["ok"]) == ("events", True)
    assert sum(1 for r in sim.requests if r.path == "/v3.1/users") == before  # no full re-read
    assert api_get(clever_gateway, f"/users/{seeded.students[0]}")["name"] == {"first": "Kiddo",
                                                                               "last": "Renamed"}
    section = api_get(clever_gateway, f"/districts/{seeded.district}/sections")["data"][0]
    assert section["student_count"] == 4
    assert api_get(clever_gateway, f"/users/{newcomer}")["sis_ids"] == {"student": "S-new"}


def test_unshare_archives_and_reshare_restores(clever_gateway: GatewayUnderTest, clever: RunningClever) -> None:
    sim = clever.sim
    seeded = seed_district(sim)
    connect_and_sync(clever_gateway)
    gone = seeded.students[1]
    sim.unshare(gone)
    sync_now(clever_gateway, seeded.district)
    assert api_get(clever_gateway, f"/users/{gone}")["archived"] is True
    members = api_get(clever_gateway, f"/sections/{seeded.section}/users")
    assert gone not in _ids(members)
    assert gone in _ids(api_get(clever_gateway, f"/sections/{seeded.section}/users", include_archived="true"))

    sim.reshare(gone)
    district = sync_now(clever_gateway, seeded.district)
    assert district["sync"]["last"]["mode"] == "events"
    assert api_get(clever_gateway, f"/users/{gone}")["archived"] is False


def test_expired_events_fall_back_to_a_full_sync(clever_gateway: GatewayUnderTest, clever: RunningClever) -> None:
    sim = clever.sim
    seeded = seed_district(sim)
    connect_and_sync(clever_gateway)
    sim.unshare(seeded.section)
    sim.expire_events()
    district = sync_now(clever_gateway, seeded.district)
    last = district["sync"]["last"]
    assert (last["mode"], last["ok"], last["fallback"], last["archived"]) == ("full", True, "events_expired", 1)
    assert api_get(clever_gateway, f"/districts/{seeded.district}/sections")["data"] == []
    archived = api_get(clever_gateway, f"/districts/{seeded.district}/sections", include_archived="true")
    assert archived["data"][0]["archived"] is True

    sim.reshare(seeded.section)
    district = sync_now(clever_gateway, seeded.district, full=True)
    assert district["sync"]["last"]["mode"] == "full"
    assert _ids(api_get(clever_gateway, f"/districts/{seeded.district}/sections")) == [seeded.section]


def test_a_spent_window_waits_for_the_reset_without_a_429(clever_gateway: GatewayUnderTest,
                                                         clever: RunningClever) -> None:
    """Clever says ``X-RateLimit-Remaining: 0``: the sync waits for ``X-RateLimit-Reset`` instead of leaning on
    Clever's 429s (issue 12 #2)."""
    sim = clever.sim
    seeded = seed_district(sim, students=5)
    sim.rate_limit, sim.rate_window = 3, 1.0  # a one-second window keeps the test short
    connect_and_sync(clever_gateway)
    district = api_get(clever_gateway, f"/districts/{seeded.district}")
    assert district["sync"]["last"]["ok"] is True
    assert api_get(clever_gateway, f"/districts/{seeded.district}/sections")["data"][0]["student_count"] == 5
    assert sim.throttled == 0
    registry = clever_gateway.services.metrics.registry
    assert (registry.get_sample_value("gateway_outbound_responses_total",
                                      {"system": "clever", "status": "429"}) or 0) == 0


def test_5xx_is_retried_and_html_fails_as_a_wrong_token(clever_gateway: GatewayUnderTest,
                                                        clever: RunningClever) -> None:
    sim = clever.sim
    seeded = seed_district(sim)
    sim.switches.failures = [502, 500]
    connect_and_sync(clever_gateway)
    assert api_get(clever_gateway, f"/districts/{seeded.district}")["sync"]["last"]["ok"] is True
    sim.switches.html = 1
    district = sync_now(clever_gateway, seeded.district)
    assert (district["sync"]["status"], district["sync"]["last"]["error_code"]) == ("failed", "CLEVER_WRONG_TOKEN")
    assert district["status"] == "connected"


def test_revoked_district_token(clever_gateway: GatewayUnderTest, clever: RunningClever) -> None:
    sim = clever.sim
    seeded = seed_district(sim)
    connect_and_sync(clever_gateway)
    tokens = clever_gateway.services.clever.tokens
    assert tokens.token_for(seeded.district) == sim.token_for(seeded.district)
    sim.revoke_district(seeded.district)
    district = sync_now(clever_gateway, seeded.district)
    assert tokens.token_for(seeded.district) is None
    assert (district["status"], district["sync"]["last"]["error_code"]) == ("disconnected", "CLEVER_TOKEN_REJECTED")
    assert district["disconnected_at"] is not None
    assert api_get(clever_gateway, f"/districts/{seeded.district}/sections")["data"] == []
    with clever_gateway.services.db.transaction() as s:
        row = s.get(CleverDistrictRow, seeded.district)
        assert row is not None and row.token_encrypted is None
    refused = clever_gateway.api("admin").post(
        f"{clever_gateway.url}/api/v1/clever/districts/{seeded.district}/sync", timeout=5)
    assert (refused.status_code, refused.json()["code"]) == (409, "CLEVER_DISTRICT_DISCONNECTED")

    sim.connect_district(seeded.district)
    connect_and_sync(clever_gateway)
    district = api_get(clever_gateway, f"/districts/{seeded.district}")
    assert (district["status"], district["sync"]["last"]["mode"]) == ("connected", "full")
    assert _ids(api_get(clever_gateway, f"/districts/{seeded.district}/sections")) == [seeded.section]


def test_progress_is_visible_while_a_sync_runs(clever_gateway: GatewayUnderTest, clever: RunningClever) -> None:
    sim = clever.sim
    seeded = seed_district(sim)
    job(clever_gateway, "clever.district_tokens").run()
    sim.switches.prefix = "/v3.1/users"
    sim.switches.rate_limited, sim.switches.rate_limit_reset_in = 1, 1.5
    worker = threading.Thread(target=job(clever_gateway, "clever.roster_sync").run)
    worker.start()
    seen: dict[str, Any] = {}

    def progress_shown() -> bool:
        sync = api_get(clever_gateway, f"/districts/{seeded.district}")["sync"]
        if sync["status"] == "running" and sync["progress"] and sync["progress"]["phase"] == "schools":
            seen.update(sync["progress"])
        return bool(seen)

    wait_until(progress_shown, timeout=10, what="the sync's progress while it runs", interval=0.05)
    worker.join(timeout=15)
    assert seen["mode"] == "full" and seen["pages"] >= 1
    assert api_get(clever_gateway, f"/districts/{seeded.district}")["sync"]["status"] == "succeeded"


def test_trigger_needs_admin_and_a_known_district(clever_gateway: GatewayUnderTest, clever: RunningClever) -> None:
    seeded = seed_district(clever.sim)
    job(clever_gateway, "clever.district_tokens").run()
    url = f"{clever_gateway.url}/api/v1/clever/districts/{seeded.district}/sync"
    forbidden = clever_gateway.api("roster").post(url, timeout=5)
    assert (forbidden.status_code, forbidden.json()["required_scope"]) == (403, "admin")
    unknown = clever_gateway.api("admin").post(f"{clever_gateway.url}/api/v1/clever/districts/nope/sync", timeout=5)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "CLEVER_DISTRICT_NOT_FOUND")
    bad = clever_gateway.api("admin").post(url, json={"full": "yes"}, timeout=5)
    assert (bad.status_code, bad.json()["code"]) == (422, "VALIDATION_FAILED")
    queued = trigger(clever_gateway, seeded.district, full=True)
    assert queued["sync"]["status"] == "queued" and queued["sync"]["requested_at"]


def test_an_old_full_sync_is_redone_in_full(clever_gateway: GatewayUnderTest, clever: RunningClever) -> None:
    seeded = seed_district(clever.sim)
    connect_and_sync(clever_gateway)
    assert sync_now(clever_gateway, seeded.district)["sync"]["last"]["mode"] == "events"
    week_ago = datetime.now(UTC) - timedelta(days=8)
    with clever_gateway.services.db.transaction() as s:
        s.execute(update(CleverDistrictRow).values(full_synced_at=week_ago))
    assert sync_now(clever_gateway, seeded.district)["sync"]["last"]["mode"] == "full"


@pytest.mark.parametrize(
    ("fault", "code"),
    [({"failures": [403]}, "CLEVER_TOKEN_REJECTED"), ({"failures": [400]}, "CLEVER_BAD_REQUEST"),
     ({"html": 1}, "CLEVER_WRONG_TOKEN"), ({"failures": [404]}, "CLEVER_NOT_FOUND")],
)
def test_a_full_sync_goes_on_without_the_newest_event(clever_gateway: GatewayUnderTest, clever: RunningClever,
                                                      fault: dict[str, Any], code: str) -> None:
    """Events are opt-in and `ending_before=last` is undocumented: its failure must not stop the roster read."""
    sim = clever.sim
    seeded = seed_district(sim)
    sim.switches.prefix = "/v3.1/events"
    for name, value in fault.items():
        setattr(sim.switches, name, value)
    connect_and_sync(clever_gateway)
    district = api_get(clever_gateway, f"/districts/{seeded.district}")
    last = district["sync"]["last"]
    assert (last["mode"], last["ok"], last["upserted"], last["events_error"]) == ("full", True, 6, code)
    assert district["status"] == "connected"
    assert len(api_get(clever_gateway, f"/districts/{seeded.district}/sections")["data"]) == 1
    # With no cursor, events cannot carry on: the next sync is full again, and it gets a cursor this time.
    sim.update(seeded.students[0], name={"first": "Renamed", "last": "Kid"})
    last = sync_now(clever_gateway, seeded.district)["sync"]["last"]
    assert (last["mode"], last["ok"], last.get("fallback"), last.get("events_error")) == (
        "full", True, "events_unavailable", None)
    assert api_get(clever_gateway, f"/users/{seeded.students[0]}")["name"]["first"] == "Renamed"
    assert sync_now(clever_gateway, seeded.district)["sync"]["last"]["mode"] == "events"


def _district_row(gw: GatewayUnderTest, district: str) -> CleverDistrictRow:
    with gw.services.db.transaction() as s:
        row = s.get(CleverDistrictRow, district)
        assert row is not None
        return row


def _retry_now(gw: GatewayUnderTest, district: str, **values: Any) -> None:
    with gw.services.db.transaction() as s:
        s.execute(update(CleverDistrictRow).where(CleverDistrictRow.id == district)
                  .values(sync_retry_at=datetime.now(UTC) - timedelta(seconds=1), **values))


def test_failing_syncs_back_off_and_stop_at_the_cap(clever_gateway: GatewayUnderTest, clever: RunningClever) -> None:
    sim = clever.sim
    seeded = seed_district(sim)
    sim.switches.html = 1000  # every Data API answer is a web page, for as long as this test runs
    worker = job(clever_gateway, "clever.roster_sync")
    connect_and_sync(clever_gateway)
    sync = api_get(clever_gateway, f"/districts/{seeded.district}")["sync"]
    assert (sync["status"], sync["failures"], sync["retries_exhausted"]) == ("failed", 1, False)
    first_wait = datetime.fromisoformat(sync["retry_at"]) - datetime.now(UTC)
    assert timedelta(seconds=30) < first_wait <= timedelta(minutes=1)

    calls = len(sim.requests)
    worker.run()  # the worker's next pass, 30 s later in real life: the district is backing off
    assert len(sim.requests) == calls

    _retry_now(clever_gateway, seeded.district)
    worker.run()
    sync = api_get(clever_gateway, f"/districts/{seeded.district}")["sync"]
    assert sync["failures"] == 2
    assert datetime.fromisoformat(sync["retry_at"]) - datetime.now(UTC) > timedelta(minutes=1)  # doubled

    cap = clever_gateway.services.clever.sync.max_failures
    _retry_now(clever_gateway, seeded.district, sync_failures=cap - 1)
    worker.run()
    sync = api_get(clever_gateway, f"/districts/{seeded.district}")["sync"]
    assert (sync["failures"], sync["retry_at"], sync["retries_exhausted"]) == (cap, None, True)
    calls = len(sim.requests)
    worker.run()
    assert len(sim.requests) == calls  # no more automatic tries

    sim.switches.html = 0
    sync = sync_now(clever_gateway, seeded.district)["sync"]  # someone asks: it runs, and success resets
    assert (sync["status"], sync["failures"], sync["retry_at"], sync["retries_exhausted"]) == (
        "succeeded", 0, None, False)
    assert _district_row(clever_gateway, seeded.district).sync_failures == 0


def test_a_new_district_token_ends_the_backoff(clever_gateway: GatewayUnderTest, clever: RunningClever) -> None:
    sim = clever.sim
    seeded = seed_district(sim)
    sim.switches.html = 1000
    connect_and_sync(clever_gateway)
    assert _district_row(clever_gateway, seeded.district).sync_failures == 1
    sim.revoke_district(seeded.district)
    sim.connect_district(seeded.district)  # the district re-authorized the app: a new token
    sim.switches.html = 0
    connect_and_sync(clever_gateway)
    sync = api_get(clever_gateway, f"/districts/{seeded.district}")["sync"]
    assert (sync["status"], sync["failures"]) == ("succeeded", 0)


def test_a_district_update_after_roster_changes_in_one_event_page(clever_gateway: GatewayUnderTest,
                                                                 clever: RunningClever) -> None:
    """A districts.updated event that follows user changes on the same page is applied in the page's transaction
    (a second transaction beside it would wait on SQLite's one writer and fail as 'database is locked')."""
    sim = clever.sim
    seeded = seed_district(sim)
    connect_and_sync(clever_gateway)
    sim.update(seeded.students[0], name={"first": "Kiddo", "last": "Renamed"})
    sim.update(seeded.district, lms_state="matching_in_progress")

    district = sync_now(clever_gateway, seeded.district)
    assert (district["sync"]["last"]["mode"], district["sync"]["last"]["ok"]) == ("events", True), district
    with clever_gateway.services.db.transaction() as s:
        assert s.scalars(select(CleverDistrictRow.lms_state)).one() == "matching_in_progress"
    assert api_get(clever_gateway, f"/users/{seeded.students[0]}")["name"] == {"first": "Kiddo",
                                                                               "last": "Renamed"}


def test_a_promised_retry_runs_at_retry_at_whatever_the_sync_interval(clever_gateway: GatewayUnderTest,
                                                                      clever: RunningClever) -> None:
    """Issue 12 #4: a district synced a minute ago fails an on-demand sync; its retry_at is kept, not the interval."""
    sim = clever.sim
    seeded = seed_district(sim)
    connect_and_sync(clever_gateway)
    sim.switches.html = 1000
    failed = sync_now(clever_gateway, seeded.district)["sync"]
    assert (failed["status"], failed["failures"]) == ("failed", 1) and failed["retry_at"] is not None
    worker = job(clever_gateway, "clever.roster_sync")
    calls = len(sim.requests)
    worker.run()  # before retry_at: nothing
    assert len(sim.requests) == calls
    sim.switches.html = 0
    _retry_now(clever_gateway, seeded.district)  # retry_at has come; the last success is far younger than the interval
    worker.run()
    assert len(sim.requests) > calls
    sync = api_get(clever_gateway, f"/districts/{seeded.district}")["sync"]
    assert (sync["status"], sync["failures"], sync["retry_at"]) == ("succeeded", 0, None)


def _user_record(sim: Any, user_id: str) -> dict[str, Any]:
    return {"data": dict(sim.records["users"][user_id])}


@pytest.mark.parametrize("case", ["next link off the API host", "next link not a path", "id off the spec pattern",
                                  "not the documented shape"])
def test_a_malformed_page_fails_at_once_and_stores_nothing(clever_gateway: GatewayUnderTest, clever: RunningClever,
                                                           case: str) -> None:
    """Issue 12 #5: a bad answer is CLEVER_BAD_RESPONSE at once: no retry, no request to a made-up URL, and nothing
    from that page stored."""
    sim = clever.sim
    seeded = seed_district(sim, students=2)
    good = _user_record(sim, seeded.students[0])
    body: Any = {
        "next link off the API host": {"data": [good], "links": [{"rel": "next", "uri": "http://evil.example/v3.1/users"}]},
        "next link not a path": {"data": [good], "links": [{"rel": "next", "uri": "string"}]},
        "id off the spec pattern": {"data": [good, {"data": {**good["data"], "id": "string"}}], "links": []},
        "not the documented shape": {"data": {"users": [good]}, "links": []},
    }[case]
    sim.switches.prefix, sim.switches.method, sim.switches.bodies = "/v3.1/users", "GET", [body]
    connect_and_sync(clever_gateway)
    last = api_get(clever_gateway, f"/districts/{seeded.district}")["sync"]["last"]
    assert (last["ok"], last["error_code"]) == (False, "CLEVER_BAD_RESPONSE")
    users = [r for r in sim.requests if r.path.startswith("/v3.1/users")]
    assert len(users) == 1  # the bad page only: not retried, no next page fetched
    with clever_gateway.services.db.transaction() as s:
        assert s.scalars(select(CleverRosterUserRow.id)).all() == []
