"""Two replicas and two workers on one PostgreSQL, end to end (issue 15), in one run of real processes.

Each phase below is one claim about the topology; they share one set of processes because starting it is most
of the cost (and the machine is shared). Phases that stop processes come last. Waits are bounded polls; the only
bound asserted is the documented one (``GATEWAY_CACHE_SECONDS``, the publish delay), plus slack for a busy
machine.
"""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import jwt
import requests
from sqlalchemy import select

from gateway.lti import claims as c
from gateway.store.models.writeback import OutboxRow
from sandbox.lms.platform import STUDENT, STUDENT_2, TEACHER, LaunchIntent
from tests.support.clever_roster import seed_district
from tests.support.lti_flow import Launch, launch, on_replica
from tests.support.processes import REPO
from tests.support.waiting import wait_until

from .conftest import AUTH_FAILURES_LIMIT, CACHE_SECONDS, CLEVER_BUDGET, PUBLISH_DELAY_SECONDS, Topology

LAUNCHES = 200
THROUGH_THE_BALANCER = 10
LIMITED_CLIENT = "127.0.0.77"  # the client the auth-failure limit refuses
SLACK_SECONDS = 8  # polling and a loaded 2-core machine; the bounds themselves are the settings


def _launch(topo: Topology, login_on: str, launch_on: str, intent: LaunchIntent | None = None) -> Launch:
    """The login answered by one replica, the id_token posted to another (the platform's pages are its own)."""
    return launch(topo.world.browser(), on_replica(login_on, topo.world.platform.prepare(intent)), post_to=launch_on)


def _api(topo: Topology, *scopes: str) -> requests.Session:
    """The vendor's client with these scopes (one key each: deliveries are visible to the key that made them)."""
    if scopes not in topo.sessions:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {topo.world.gateway.api_key(*scopes)}"
        topo.sessions[scopes] = session
    return topo.sessions[scopes]


def _redeem(topo: Topology, api: requests.Session, code: str, base: str | None = None) -> dict[str, Any]:
    answer = api.post((base or topo.url) + "/api/v1/launches/redeem", json={"code": code}, timeout=60)
    assert answer.status_code == 200, answer.text
    record: dict[str, Any] = answer.json()
    return record


# -- 1. launches split across replicas ---------------------------------------------------------------------


def _launches_complete_across_replicas(topo: Topology) -> dict[str, Any]:
    a, b = topo.replica_urls
    users = [TEACHER, STUDENT, STUDENT_2]

    def one(i: int) -> Launch:
        login_on, launch_on = (a, b) if i % 2 == 0 else (b, a)
        return _launch(topo, login_on, launch_on, LaunchIntent(user=users[i % 3]))

    with ThreadPoolExecutor(max_workers=6) as pool:
        launches = list(pool.map(one, range(LAUNCHES)))
    refused = [(i, x.error_code, x.final.status_code) for i, x in enumerate(launches) if x.code is None]
    assert not refused, refused[:5]

    # And as a browser meets them: one origin (the balancer), which sends each request to the next replica.
    through = [launch(topo.world.browser(), topo.world.platform.prepare()) for _ in range(THROUGH_THE_BALANCER)]
    assert [x.error_code for x in through if x.code is None] == []
    lti = [(path, replica) for path, replica in topo.balancer.answered if path.startswith("/lti/")]
    pairs = list(zip(lti[::2], lti[1::2], strict=True))
    assert len(pairs) == THROUGH_THE_BALANCER and all(
        login[0] == "/lti/login" and post[0] == "/lti/launch" and login[1] != post[1] for login, post in pairs)

    api = _api(topo, "launches")
    with ThreadPoolExecutor(max_workers=4) as pool:
        records = list(pool.map(lambda x: _redeem(topo, api, x.code or ""), launches + through))
    assert len({r["id"] for r in records}) == LAUNCHES + THROUGH_THE_BALANCER
    assert topo.balancer.served_by("/api/v1/launches/redeem") == {0, 1}
    return {"teacher": records[0], "students": [records[1]["user"]["id"], records[2]["user"]["id"]]}


# -- 2. grades through both replicas, delivered once each ----------------------------------------------


def _grades_delivered_once_each(topo: Topology, people: dict[str, Any]) -> None:
    api = _api(topo, "writeback")
    context = people["teacher"]["context"]["id"]
    base = f"{topo.url}/api/v1/contexts/{context}/assignments"

    def accepted(response: requests.Response) -> dict[str, Any]:
        assert response.status_code == 202, response.text
        body: dict[str, Any] = response.json()
        return body

    assignments = [accepted(api.post(base, json={"title": f"Quiz {n}", "points_possible": 10}, timeout=60))
                   for n in range(4)]
    grades = [accepted(api.put(f"{base}/{made['assignment']['id']}/grades/{student}", timeout=60,
                               json={"score_given": n + 1, "score_maximum": 10}))
              for n, made in enumerate(assignments) for student in people["students"]]
    assert topo.balancer.served_by(f"/api/v1/contexts/{context}/assignments/") == {0, 1}
    _settle(topo, api, [made["delivery"]["id"] for made in assignments + grades])

    platform = topo.world.platform
    with platform.lock:
        scores = [dict(s) for history in platform.scores.values() for s in history]
    posted = sorted((s["userId"], s["scoreGiven"]) for s in scores)
    assert len(posted) == len(grades) == len(set(posted)), posted  # each grade exactly once at the LMS


def _settle(topo: Topology, api: requests.Session, ids: list[str], timeout: float = 60) -> list[dict[str, Any]]:
    def one(delivery_id: str) -> dict[str, Any]:
        answer = api.get(f"{topo.url}/api/v1/deliveries/{delivery_id}", timeout=60)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def states() -> list[dict[str, Any]]:
        return [one(i) for i in ids]

    wait_until(lambda: all(d["state"] in ("delivered", "failed", "dead") for d in states()), timeout,
               f"{len(ids)} deliveries to settle", interval=0.2)
    settled = states()
    assert [d["state"] for d in settled] == ["delivered"] * len(ids), settled
    return settled


# -- 3. limits held by the pair -----------------------------------------------------------------------------


def _status_from(client_address: str, base: str, path: str, headers: dict[str, str]) -> int:
    """A GET from ``client_address`` (any 127/8 address is this machine): a client of its own for the limits."""
    target = urlsplit(base)
    conn = http.client.HTTPConnection(target.hostname or "", target.port, timeout=60,
                                      source_address=(client_address, 0))
    try:
        conn.request("GET", path, headers=headers)
        return conn.getresponse().status
    finally:
        conn.close()


def _api_auth_failures_limited_for_the_pair(topo: Topology) -> None:
    """One client's failures spread over both replicas: each replica sees half, so per process none would be
    refused; counted together in Redis, the second half is. Other clients (the rest of this test) are not."""
    bad = {"Authorization": "Bearer gw_nope.wrong"}
    answered = [(i % 2, _status_from(LIMITED_CLIENT, topo.replica_urls[i % 2], "/api/v1/deliveries/nope", bad))
                for i in range(2 * AUTH_FAILURES_LIMIT)]
    statuses = [status for _, status in answered]
    assert statuses.count(401) == AUTH_FAILURES_LIMIT and statuses.count(429) == AUTH_FAILURES_LIMIT, statuses
    assert {replica for replica, status in answered if status == 429} == {0, 1}


def _clever_budget_held_for_the_pair(topo: Topology) -> None:
    """Both replicas' processes spend one district token: Clever sees at most one budget, and never a 429."""
    sim = topo.clever.sim
    token = sim.token_for(seed_district(sim, students=1).district)
    calls = CLEVER_BUDGET  # each process alone would spend the whole budget
    started = time.time()
    procs = [subprocess.Popen([sys.executable, "-m", "tests.support.clever_budget_proc", token, str(calls)],
                              cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for env in topo.envs]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()[-2000:]
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    crossed = int(started // 60) != int(time.time() // 60)  # a new minute: a second window's budget
    answered = sum(r["answered"] for r in results)
    assert sum(r["clever_429"] for r in results) == 0 and sim.throttled == 0
    assert answered <= CLEVER_BUDGET * (2 if crossed else 1), results
    assert answered + sum(r["held_back"] for r in results) == 2 * calls


# -- 4. a key rotated through one replica signs on the other ---------------------------------------------


def _signed_kid_on(topo: Topology, replica: str) -> str:
    """A deep-linking launch answered by ``replica``; the kid of the response it signs."""
    other = next(u for u in topo.replica_urls if u != replica)
    api = _api(topo, "launches")
    code = _launch(topo, other, replica, LaunchIntent(message_type=c.DEEP_LINKING_REQUEST)).code
    assert code is not None
    record = _redeem(topo, api, code, base=replica)
    answer = api.post(replica + record["deep_linking"]["response_url"], timeout=60,
                      json={"content_items": [{"type": "ltiResourceLink", "title": "Fractions quiz"}]})
    assert answer.status_code == 200, answer.text
    return str(jwt.get_unverified_header(answer.json()["jwt"])["kid"])


def _rotation_reaches_the_other_replica(topo: Topology) -> None:
    b = topo.replica_urls[1]
    old = _signed_kid_on(topo, b)
    rotating = time.monotonic()  # the new key's schedule is stamped after this
    rotate = subprocess.run([sys.executable, "-m", "gateway", "keys", "rotate"], cwd=REPO, env=topo.envs[0],
                            capture_output=True, text=True, timeout=120)
    assert rotate.returncode == 0, rotate.stderr
    new = rotate.stdout.split("published next key ")[1].split(";")[0]
    assert new != old
    (topo.keys_dirs[1] / f"{new}.pem").write_bytes((topo.keys_dirs[0] / f"{new}.pem").read_bytes())
    assert _signed_kid_on(topo, b) in (old, new)
    wait_until(lambda: _signed_kid_on(topo, b) == new, PUBLISH_DELAY_SECONDS + CACHE_SECONDS + SLACK_SECONDS,
               "replica B to sign with the key rotated through A", interval=0.3)
    assert time.monotonic() - rotating >= PUBLISH_DELAY_SECONDS  # and not before the delay had passed
    published = requests.get(b + "/.well-known/jwks.json", timeout=60).json()
    assert {old, new} <= {k["kid"] for k in published["keys"]}  # the old key stays published through its grace


# -- 5. a registration disabled through one replica ----------------------------------------------------


def _disabled_registration_refused_on_the_other(topo: Topology) -> None:
    a, b = topo.replica_urls
    admin = _api(topo, "admin")
    registration = topo.world.registration.id
    assert _launch(topo, b, b).code is not None  # B holds the registration as active (warm cache)

    answer = admin.post(f"{a}/api/v1/admin/lti/registrations/{registration}/disable", timeout=60)
    assert answer.status_code == 200, answer.text
    wait_until(lambda: _launch(topo, b, b).error_code == "LTI_REGISTRATION_DISABLED",
               CACHE_SECONDS + SLACK_SECONDS, "replica B to refuse launches of the registration A disabled",
               interval=0.1)

    answer = admin.post(f"{a}/api/v1/admin/lti/registrations/{registration}/enable", timeout=60)
    assert answer.status_code == 200, answer.text
    wait_until(lambda: _launch(topo, b, b).code is not None, CACHE_SECONDS + SLACK_SECONDS,
               "replica B to launch again once A re-enabled the registration", interval=0.1)


# -- 6. workers: SIGKILL mid-delivery, SIGTERM mid-delivery ----------------------------------------------


def _held_grade(topo: Topology, people: dict[str, Any], score: float) -> tuple[str, str, str]:
    """A grade whose score post the LMS holds: (delivery id, assignment id, student id)."""
    api = _api(topo, "writeback")
    context = people["teacher"]["context"]["id"]
    base = f"{topo.url}/api/v1/contexts/{context}/assignments"
    made = api.post(base, json={"title": f"Held {score}", "points_possible": 10}, timeout=60).json()
    _settle(topo, api, [made["delivery"]["id"]])
    topo.gate.arm("/scores")
    student = people["students"][0]
    grade = api.put(f"{base}/{made['assignment']['id']}/grades/{student}", timeout=60,
                    json={"score_given": score, "score_maximum": 10}).json()
    wait_until(lambda: topo.gate.held == 1, 30, "the score post to be in flight at the LMS", interval=0.05)
    return grade["delivery"]["id"], made["assignment"]["id"], student


def _owner(topo: Topology, delivery_id: str) -> int:
    with topo.world.gateway.services.db.transaction() as s:
        row = s.scalars(select(OutboxRow).where(OutboxRow.id == delivery_id)).one()
        assert row.lease_owner is not None, row.state  # claimed: the worker holding it is in the LMS's hands
        return int(row.lease_owner.split(":")[-2])


def _scores_of(topo: Topology, score: float) -> list[dict[str, Any]]:
    platform = topo.world.platform
    with platform.lock:
        return [dict(s) for history in platform.scores.values() for s in history if s["scoreGiven"] == score]


def _killed_worker_claims_pass_to_the_other(topo: Topology, people: dict[str, Any]) -> int:
    """SIGKILL the worker delivering; the other takes the row after its lease. Returns the survivor's index."""
    delivery_id, _, _ = _held_grade(topo, people, 9.5)
    pid = _owner(topo, delivery_id)
    killed = next(i for i, w in enumerate(topo.workers) if w.pid == pid)
    topo.workers[killed].signal(signal.SIGKILL)
    topo.workers[killed].wait(timeout=30)
    api = _api(topo, "writeback")
    # The survivor claims the row once the dead worker's lease runs out and delivers it (the gate held one).
    [settled] = _settle(topo, api, [delivery_id], timeout=60)
    topo.gate.release()
    # The killed worker's post was in flight: the LMS may apply it as well. Exactly once or reported: a second
    # attempt is on the delivery's record, and every copy the LMS holds is the same score with the same stamp.
    wait_until(lambda: topo.gate.held == 0, 30, "the held post to be answered")
    copies = _scores_of(topo, 9.5)
    assert copies and len({json.dumps(c, sort_keys=True) for c in copies}) == 1, copies
    assert len(copies) == 1 or settled["attempts"] >= 2, (copies, settled)
    return 1 - killed


def _stopped_worker_finishes_its_delivery(topo: Topology, people: dict[str, Any], survivor: int) -> None:
    delivery_id, _, _ = _held_grade(topo, people, 8.5)
    assert _owner(topo, delivery_id) == topo.workers[survivor].pid
    topo.workers[survivor].signal(signal.SIGTERM)
    assert topo.workers[survivor].alive()  # it waits for its delivery
    topo.gate.release()
    assert topo.workers[survivor].wait(timeout=60) == 0, topo.workers[survivor].tail()
    api = _api(topo, "writeback")
    [settled] = _settle(topo, api, [delivery_id], timeout=10)
    assert settled["attempts"] == 1
    assert len(_scores_of(topo, 8.5)) == 1


# -- 7. a replica stopped mid-request -----------------------------------------------------------------------


def _answers(url: str) -> bool:
    try:
        return requests.get(url + "/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _stopped_replica_drains_then_finishes_in_flight(topo: Topology) -> None:
    """SIGTERM: /readyz says 503 while requests are still served; the listener closes; the request in flight
    (a launch waiting on the platform's JWKS) completes; the replica exits cleanly."""
    a, b = topo.replica_urls
    replica = topo.replicas[1]
    topo.world.platform.rotate_key()  # B's cached JWKS lacks the new kid: its next launch fetches it
    topo.gate.arm("/jwks", count=1)
    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(_launch, topo, a, b)
        wait_until(lambda: topo.gate.held == 1, 30, "B's launch to wait on the platform's JWKS", interval=0.05)
        replica.signal(signal.SIGTERM)

        def draining() -> bool:
            ready = requests.get(b + "/readyz", timeout=10)
            return ready.status_code == 503 and ready.json()["checks"].get("shutdown") == "draining"

        wait_until(draining, 20, "replica B to say it is draining", interval=0.05)
        assert requests.get(b + "/healthz", timeout=10).status_code == 200  # still serving while draining
        wait_until(lambda: not _answers(b), 30, "replica B to stop taking requests", interval=0.1)
        assert not slow.done()
        topo.gate.release()
        launched = slow.result(timeout=60)
    assert launched.code is not None, (launched.error_code, launched.final.status_code)
    assert replica.wait(timeout=60) == 0, replica.tail()
    _redeem(topo, _api(topo, "launches"), launched.code, base=a)  # recorded in full before B stopped


def test_two_replicas_and_two_workers_on_one_postgresql(topology: Topology) -> None:
    people = _launches_complete_across_replicas(topology)
    _grades_delivered_once_each(topology, people)
    _api_auth_failures_limited_for_the_pair(topology)
    _clever_budget_held_for_the_pair(topology)
    _rotation_reaches_the_other_replica(topology)
    _disabled_registration_refused_on_the_other(topology)
    survivor = _killed_worker_claims_pass_to_the_other(topology, people)
    _stopped_worker_finishes_its_delivery(topology, people, survivor)
    _stopped_replica_drains_then_finishes_in_flight(topology)
