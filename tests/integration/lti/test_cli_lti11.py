"""``gateway registrations add|update`` set the LTI 1.1 secret (from standard input, never an argument) and the
granted scopes; the secret is stored encrypted and no command shows it back."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text

from gateway.crypto import Cipher, DecryptionError
from gateway.lti import claims as c
from gateway.lti.migration import secret_context
from tests.support.gateway import TEST_ENCRYPTION_KEYS

from .conftest import Run

SECRET = "district-lti11-shared-secret"



def _stored(sqlite_url: str) -> dict[str, str | None]:
    engine = create_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, lti11_secret_encrypted FROM lti_registrations")).all()
            audit = " ".join(str(d) for d in conn.execute(text("SELECT details FROM audit_log")).scalars())
    finally:
        engine.dispose()
    assert SECRET not in audit
    return {row.id: row.lti11_secret_encrypted for row in rows}


def test_the_secret_is_read_from_stdin_stored_encrypted_and_never_shown(run: Run, sqlite_url: str) -> None:
    code, out, err = run("registrations", "add", "--lms", "canvas", "--client-id", "10000000000042",
                         "--granted-scope", c.NRPS_SCOPE, "--lti11-secret-stdin", stdin=SECRET + "\n")
    assert code == 0, err
    assert SECRET not in out and "LTI 1.1 secret (migration claim): set" in out
    assert f"granted scopes: {c.NRPS_SCOPE}" in out
    (registration_id, sealed), = _stored(sqlite_url).items()
    assert sealed is not None and SECRET not in sealed
    cipher = Cipher.from_spec(TEST_ENCRYPTION_KEYS)
    assert cipher.decrypt(sealed, secret_context(registration_id)) == SECRET
    with pytest.raises(DecryptionError):  # bound to its registration: a copied value does not decrypt elsewhere
        cipher.decrypt(sealed, secret_context("reg_other"))

    code, out, err = run("registrations", "show", registration_id, "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert SECRET not in out and shown["lti11_secret"] == "set" and shown["granted_scopes"] == [c.NRPS_SCOPE]
    assert any(h["action"] == "lti.registration.add" and h["details"].get("lti11_secret") == "set"
               for h in shown["history"])
    code, out, _ = run("registrations", "list", "--json")
    assert SECRET not in out

    code, out, err = run("registrations", "update", registration_id, "--lti11-secret-stdin",
                         "--clear-granted-scopes", "--json", stdin="a-new-secret\n")
    assert code == 0, err
    assert "a-new-secret" not in out and json.loads(out)["granted_scopes"] is None
    assert cipher.decrypt(_stored(sqlite_url)[registration_id] or "", secret_context(registration_id)) == "a-new-secret"

    code, out, err = run("registrations", "update", registration_id, "--clear-lti11-secret", "--json")
    assert code == 0, err
    assert json.loads(out)["lti11_secret"] == "not set" and _stored(sqlite_url)[registration_id] is None


def test_an_empty_secret_on_stdin_is_refused_and_stores_nothing(run: Run, sqlite_url: str) -> None:
    with pytest.raises(SystemExit) as exited:
        run("registrations", "add", "--lms", "canvas", "--client-id", "10000000000042", "--lti11-secret-stdin",
            stdin="\n")
    assert "read no secret" in str(exited.value)
    assert _stored(sqlite_url) == {}
