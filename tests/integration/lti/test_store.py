"""LTI tables and the functions that write them, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from gateway.lti import management
from gateway.lti.registrations import (
    Registration,
    RegistrationExists,
    add_deployment,
    add_registration,
    ensure_registration,
)
from gateway.lti.state import LoginStates, digest
from gateway.store import Database
from gateway.store.models.base import new_id, utcnow
from gateway.store.models.lti import LtiIdentityRow
from gateway.store.repositories.audit import AuditRepository
from gateway.store.repositories.lti_launches import IdentityRepository, LoginStateRepository
from gateway.store.repositories.users import UserRepository
from tests.support.lti_flow import launch, parse_page
from tests.support.lti_sandbox import lti_world, stored

REGISTRATION = {
    "issuer": "https://canvas.instructure.com", "client_id": "10000000000001",
    "auth_login_url": "https://sso.canvaslms.com/api/lti/authorize_redirect",
    "auth_token_url": "https://sso.canvaslms.com/login/oauth2/token",
    "jwks_url": "https://sso.canvaslms.com/api/lti/security/jwks", "lms": "canvas",
}


def _add(database: Database, **fields: Any) -> Registration:
    with database.transaction() as s:
        return add_registration(s, **fields)


def test_migration_creates_the_lti_tables_with_their_keys(database: Database) -> None:
    inspector = inspect(database.engine)
    tables = set(inspector.get_table_names())
    assert {"lti_registrations", "lti_deployments", "lti_login_states", "lti_identities", "lti_contexts",
            "lti_resource_links", "lti_deep_link_requests"} <= tables
    uniques = {u["name"] for t in tables if t.startswith("lti_") for u in inspector.get_unique_constraints(t)}
    assert {"uq_lti_registrations_issuer_client_id", "uq_lti_deployments_registration_id_deployment_id",
            "uq_lti_identities_registration_id_sub", "uq_lti_contexts_registration_id_context_id",
            "uq_lti_resource_links_context_ref_resource_link_id", "uq_lti_login_states_nonce_hash"} <= uniques


def test_registration_is_unique_by_issuer_and_client_and_audited(database: Database) -> None:
    registration = _add(database, deployment_ids=("1:abc",), auth_audience=None, **REGISTRATION)
    assert registration.token_audience == REGISTRATION["auth_token_url"]
    with pytest.raises(RegistrationExists):
        _add(database, **REGISTRATION)
    again = ensure_registration(database, **REGISTRATION)
    assert again.id == registration.id
    other_client = _add(database, **{**REGISTRATION, "client_id": "10000000000002"})
    assert other_client.id != registration.id  # Canvas: one issuer, many client ids
    with database.transaction() as s:
        actions = [e.action for e in AuditRepository(s).list()]
    assert actions.count("lti.registration.add") == 2 and "lti.deployment.add" in actions


def test_deployment_is_unique_within_its_registration(database: Database) -> None:
    registration = _add(database, **REGISTRATION)
    with database.transaction() as s:
        deployment = add_deployment(s, registration.id, "1:abc", status="pending", actor="test")
    with database.transaction() as s:
        assert management.set_deployment_status(s, deployment.id, "active", actor="test")["status"] == "active"
    with pytest.raises(IntegrityError), database.transaction() as s:
        add_deployment(s, registration.id, "1:abc", status="active", actor="test")


def test_login_state_is_single_use_and_purged_after_expiry(database: Database) -> None:
    registration = _add(database, **REGISTRATION)
    states = LoginStates(database, ttl_seconds=600)
    with database.transaction() as s:
        login = states.begin(s, registration_id=registration.id, target_link_uri="https://gw/lti/launch",
                             login_hint="u1", message_hint=None, deployment_hint=None, storage_target=None)
    with database.transaction() as s:
        found = states.find(s, login.state)
        assert found is not None and found.nonce_hash == digest(login.nonce) and not found.used
        assert states.consume(s, login.state) is True
    with database.transaction() as s:
        assert states.consume(s, login.state) is False
    with database.transaction() as s:
        LoginStateRepository(s).purge_expired(utcnow() + dt.timedelta(hours=1))
        assert states.find(s, login.state) is None


def test_identity_is_unique_per_registration_and_sub(database: Database) -> None:
    registration = _add(database, **REGISTRATION)
    with pytest.raises(IntegrityError), database.transaction() as s:
        for _ in range(2):
            user = UserRepository(s).create()
            IdentityRepository(s).add(LtiIdentityRow(id=new_id("lid"), user_id=user.id,
                                                     registration_id=registration.id, sub="same-sub"))


def test_launch_and_replay_on_each_engine(database_url: str, keys_dir: Path) -> None:
    with lti_world(database_url, keys_dir) as world:
        browser = world.browser()
        first = launch(browser, world.platform.prepare())
        assert first.code and world.redeem(first.code).status_code == 200
        before = stored(world.gateway)
        replay = browser.post(f"{world.gateway.url}/lti/launch", first.form_fields)
        assert parse_page(replay.text).error_code == "LTI_ID_TOKEN_REPLAYED"
        assert stored(world.gateway) == before
