"""Issue 13, Deliver 4: the LTI 1.1 migration claim, over real HTTP from the simulated LMS.

A claim is trusted (recorded on the LTI identity, shown in the launch record, matched on) only when its
``oauth_consumer_key_sign`` holds under the registration's LTI 1.1 secret; any other claim is ignored with a
warning and a metric, and the launch goes on as if it carried none. Store parts run on both engines.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select, text

from gateway.lti.migration import secret_context
from gateway.store.models.lti import LtiIdentityRow, LtiRegistrationRow
from sandbox.lms.platform import SANDBOX_LTI11_SECRET, STUDENT, LaunchIntent, Lti1p1Claim
from tests.support.lti_flow import launch
from tests.support.lti_sandbox import LtiWorld, connect, lti_world, start_platform

CONSUMER_KEY = "district-1p1-key"
OLD_USER = "lti11-user-34212"
LTI11 = Lti1p1Claim(user_id=OLD_USER, consumer_key=CONSUMER_KEY)


@pytest.fixture
def world_on(database_url: str, keys_dir: Path) -> Iterator[LtiWorld]:
    with lti_world(database_url, keys_dir) as made:
        yield made


def _admin(world: LtiWorld) -> requests.Session:
    return world.gateway.api("admin")


def _set_secret(world: LtiWorld, registration_id: str, secret: str | None) -> dict[str, Any]:
    answer = _admin(world).patch(f"{world.gateway.url}/api/v1/admin/lti/registrations/{registration_id}",
                                 json={"lti11_secret": secret}, timeout=10)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _launch(world: LtiWorld, intent: LaunchIntent) -> dict[str, Any]:
    result = launch(world.browser(), world.platform.prepare(intent))
    assert result.code, f"{result.final.status_code}: {result.error_code}"
    response = world.redeem(result.code)
    assert response.status_code == 200, response.text
    record: dict[str, Any] = response.json()
    return record


def _identities(world: LtiWorld) -> list[tuple[str, str, str | None, str | None]]:
    with world.gateway.services.db.transaction() as s:
        rows = s.scalars(select(LtiIdentityRow).order_by(LtiIdentityRow.created_at, LtiIdentityRow.id)).all()
        return [(r.sub, r.user_id, r.lti11_consumer_key, r.lti11_user_id) for r in rows]


def _outcomes(world: LtiWorld) -> dict[str, float]:
    registry = world.gateway.services.core.metrics.registry
    return {
        sample.labels["outcome"]: sample.value
        for metric in registry.collect() if metric.name == "gateway_lti_migration_claims"
        for sample in metric.samples if sample.name.endswith("_total")
    }


def test_a_verified_claim_is_recorded_shown_and_its_secret_never_returned(world_on: LtiWorld) -> None:
    world = world_on
    document = _set_secret(world, world.registration.id, SANDBOX_LTI11_SECRET)
    assert document["lti11_secret"] == "set"
    listed = _admin(world).get(f"{world.gateway.url}/api/v1/admin/lti/registrations", timeout=10).text
    assert SANDBOX_LTI11_SECRET not in json.dumps(document) and SANDBOX_LTI11_SECRET not in listed
    with world.gateway.services.db.engine.connect() as conn:
        raw = conn.execute(text("SELECT lti11_secret_encrypted FROM lti_registrations WHERE id = :id"),
                           {"id": world.registration.id}).scalar_one()
        audit = " ".join(str(d) for d in conn.execute(text("SELECT details FROM audit_log")).scalars())
    assert SANDBOX_LTI11_SECRET not in raw and raw.startswith("v1.")  # gateway.crypto's ciphertext
    assert SANDBOX_LTI11_SECRET not in audit
    cipher = world.gateway.services.cipher
    assert cipher.decrypt(raw, secret_context(world.registration.id)) == SANDBOX_LTI11_SECRET

    record = _launch(world, LaunchIntent(user=STUDENT, lti1p1=LTI11))
    assert record["lti"]["lti1p1"] == {"oauth_consumer_key": CONSUMER_KEY, "user_id": OLD_USER}
    assert _identities(world) == [(STUDENT.sub, record["user"]["id"], CONSUMER_KEY, OLD_USER)]
    assert _outcomes(world) == {"verified": 1.0}

    # A later launch without the claim keeps what was verified; the record shows no claim it did not carry.
    again = _launch(world, LaunchIntent(user=STUDENT))
    assert again["lti"]["lti1p1"] is None and again["user"]["id"] == record["user"]["id"]
    assert _identities(world)[0][2:] == (CONSUMER_KEY, OLD_USER)

    found = _admin(world).get(f"{world.gateway.url}/api/v1/admin/identity/lti-identities", timeout=10,
                              params={"oauth_consumer_key": CONSUMER_KEY, "lti11_user_id": OLD_USER})
    assert found.status_code == 200, found.text
    assert [(i["user_id"], i["sub"], i["lti1p1"]) for i in found.json()["data"]] == [
        (record["user"]["id"], STUDENT.sub, {"oauth_consumer_key": CONSUMER_KEY, "user_id": OLD_USER})]
    user = _admin(world).get(f"{world.gateway.url}/api/v1/admin/identity/users/{record['user']['id']}", timeout=10)
    assert user.json()["lti_identities"][0]["lti1p1"] == {"oauth_consumer_key": CONSUMER_KEY, "user_id": OLD_USER}

    cleared = _set_secret(world, world.registration.id, None)
    assert cleared["lti11_secret"] == "not set"


@pytest.mark.parametrize(("claim", "secret", "outcome"), [
    (Lti1p1Claim(user_id=OLD_USER, consumer_key=CONSUMER_KEY, secret="not-the-tools-secret"),
     SANDBOX_LTI11_SECRET, "bad_signature"),
    (Lti1p1Claim(user_id=OLD_USER, consumer_key=CONSUMER_KEY, secret=None), SANDBOX_LTI11_SECRET, "unsigned"),
    (LTI11, None, "no_secret"),
])
def test_a_claim_that_does_not_verify_is_ignored_and_nothing_of_it_recorded(
        world: LtiWorld, claim: Lti1p1Claim, secret: str | None, outcome: str,
        caplog: pytest.LogCaptureFixture) -> None:
    if secret is not None:
        _set_secret(world, world.registration.id, secret)
    with caplog.at_level(logging.WARNING, logger="gateway.lti.launch"):
        record = _launch(world, LaunchIntent(user=STUDENT, lti1p1=claim))
    assert record["lti"]["lti1p1"] is None  # the launch goes on, without trusting the claim
    assert _identities(world) == [(STUDENT.sub, record["user"]["id"], None, None)]
    assert _outcomes(world) == {outcome: 1.0}
    (warning,) = [r for r in caplog.records if r.getMessage() == "lti 1.1 migration claim ignored"]
    logged = json.dumps(warning.__dict__.get("fields"))
    assert outcome in logged and world.registration.id in logged
    for personal in (OLD_USER, CONSUMER_KEY, STUDENT.sub, STUDENT.email):
        assert personal not in logged
    found = _admin(world).get(f"{world.gateway.url}/api/v1/admin/identity/lti-identities", timeout=10,
                              params={"oauth_consumer_key": CONSUMER_KEY})
    assert found.json()["data"] == []


def test_a_known_lti11_user_arriving_through_another_registration_is_the_same_gateway_user(
        world_on: LtiWorld) -> None:
    """The district's 1.1 tool became two 1.3 registrations (or moved to a new one): the people carry over."""
    world = world_on
    second, server = start_platform()
    second.client_id = "second-client"
    try:
        other = connect(world.gateway, second)
        for registration_id in (world.registration.id, other.id):
            _set_secret(world, registration_id, SANDBOX_LTI11_SECRET)
        first = _launch(world, LaunchIntent(user=STUDENT, lti1p1=LTI11))
        moved = _launch_on(world, second, LaunchIntent(user=STUDENT, lti1p1=LTI11))
        assert moved["lti"]["registration"] == other.id and moved["lti"]["lti1p1"] == first["lti"]["lti1p1"]
        assert moved["user"]["id"] == first["user"]["id"]
        # A forged claim naming the same 1.1 user through the second platform carries nothing over.
        forged = Lti1p1Claim(user_id=OLD_USER, consumer_key=CONSUMER_KEY, secret="guessed")
        stranger = _launch_on(world, second, LaunchIntent(user=STUDENT.__class__(
            "someone-else", "X", "X", "Y", "x@example.edu", STUDENT.roles), lti1p1=forged))
        assert stranger["user"]["id"] != first["user"]["id"] and stranger["lti"]["lti1p1"] is None
        found = _admin(world).get(f"{world.gateway.url}/api/v1/admin/identity/lti-identities", timeout=10,
                                  params={"oauth_consumer_key": CONSUMER_KEY, "lti11_user_id": OLD_USER}).json()
        assert {(i["registration"], i["user_id"]) for i in found["data"]} == {
            (world.registration.id, first["user"]["id"]), (other.id, first["user"]["id"])}
    finally:
        server.stop()


def _launch_on(world: LtiWorld, platform: Any, intent: LaunchIntent) -> dict[str, Any]:
    result = launch(world.browser(), platform.prepare(intent))
    assert result.code, f"{result.final.status_code}: {result.error_code}"
    response = world.redeem(result.code)
    assert response.status_code == 200, response.text
    record: dict[str, Any] = response.json()
    return record


@pytest.mark.parametrize(("body", "field"), [
    ({"lti11_secret": ""}, "lti11_secret"),
    ({"lti11_secret": 42}, "lti11_secret"),
    ({"lti11_secret": "x" * 1001}, "lti11_secret"),
    ({"granted_scopes": "https://purl.imsglobal.org/spec/lti-ags/scope/score"}, "granted_scopes"),
    ({"granted_scopes": [""]}, "granted_scopes"),
])
def test_bad_migration_settings_are_refused_and_change_nothing(world: LtiWorld, body: dict[str, Any],
                                                              field: str) -> None:
    url = f"{world.gateway.url}/api/v1/admin/lti/registrations/{world.registration.id}"
    before = _admin(world).get(url, timeout=10).json()
    answer = _admin(world).patch(url, json=body, timeout=10)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "VALIDATION_FAILED" and answer.json()["errors"][0]["field"] == field
    assert _admin(world).get(url, timeout=10).json() == before


def test_the_lookup_needs_a_consumer_key(world: LtiWorld) -> None:
    answer = _admin(world).get(f"{world.gateway.url}/api/v1/admin/identity/lti-identities", timeout=10)
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "oauth_consumer_key"


def test_a_secret_that_does_not_decrypt_here_verifies_nothing(world: LtiWorld) -> None:
    """A ciphertext copied from another registration's row (or sealed with a key since removed) is not the secret."""
    sealed_elsewhere = world.gateway.services.cipher.encrypt(SANDBOX_LTI11_SECRET, secret_context("reg_another"))
    with world.gateway.services.db.transaction() as s:
        row = s.get(LtiRegistrationRow, world.registration.id)
        assert row is not None
        row.lti11_secret_encrypted = sealed_elsewhere
    record = _launch(world, LaunchIntent(user=STUDENT, lti1p1=LTI11))
    assert record["lti"]["lti1p1"] is None
    assert _identities(world) == [(STUDENT.sub, record["user"]["id"], None, None)]
    assert _outcomes(world) == {"secret_unreadable": 1.0}
