"""Secrets and personal data are stored encrypted, on both engines."""

from __future__ import annotations

from sqlalchemy import text

from gateway.api.keys import ApiKeyService
from gateway.crypto import Cipher
from gateway.handoff.service import HandoffService
from gateway.settings import load_settings
from gateway.store import Database
from tests.support.gateway import TEST_ENCRYPTION_KEYS


def test_launch_record_is_encrypted_and_round_trips(database: Database) -> None:
    cipher = Cipher.from_spec(TEST_ENCRYPTION_KEYS)
    handoff = HandoffService(database, cipher, load_settings(environ={}))
    record = {"user": {"name": "Ada Lovelace", "email": "ada@school.example"}}
    with database.transaction() as s:
        issued = handoff.issue(s, "lti", record, user_id=None)

    with database.engine.connect() as conn:
        stored = conn.execute(text("SELECT record_encrypted FROM launches")).scalar_one()
        code_hashes = conn.execute(text("SELECT code_hash FROM handoff_codes")).scalars().all()
    assert "Ada" not in stored and "school.example" not in stored
    assert issued.code not in code_hashes  # only a hash of the code is kept

    _, key = ApiKeyService(database).create("app", ["launches"])
    vendor = ApiKeyService(database).authenticate(key)
    assert vendor is not None
    assert handoff.redeem(issued.code, vendor)["user"] == record["user"]


def test_api_key_secret_is_not_stored(database: Database) -> None:
    _, key = ApiKeyService(database).create("app", ["admin"])
    secret = key.split(".", 1)[1]
    with database.engine.connect() as conn:
        rows = conn.execute(text("SELECT secret_hash, name FROM api_keys")).all()
    assert all(secret not in row.secret_hash for row in rows)
