"""Tool key rotation: a platform that cached the JWKS before a rotation keeps verifying, through the grace period."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import jwt
import pytest
from jwt import PyJWK

from gateway.keys.ring import KeyRing, RotationInProgress
from gateway.store import Database
from gateway.store.repositories.audit import AuditRepository

DAY = dt.timedelta(hours=24)


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta


def _verify_with(cached_jwks: dict[str, object], token: str) -> dict[str, object]:
    """What a platform does: pick the key by kid from its cached JWKS and verify."""
    kid = jwt.get_unverified_header(token)["kid"]
    keys = cached_jwks["keys"]
    assert isinstance(keys, list)
    match = next((k for k in keys if k["kid"] == kid), None)
    if match is None:
        raise LookupError(f"kid {kid} not in the cached JWKS")
    claims: dict[str, object] = jwt.decode(token, PyJWK(match).key, algorithms=["RS256"], audience="platform")
    return claims


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ring(database: Database, keys_dir: Path, clock: Clock) -> KeyRing:
    ring = KeyRing(database, keys_dir, publish_delay=DAY, retire_grace=DAY, clock=clock)
    ring.generate()
    return ring


def test_cached_jwks_keeps_verifying_across_a_rotation(ring: KeyRing, clock: Clock) -> None:
    old_kid = ring.signing_key().kid
    new_kid = ring.rotate()
    # Published at once, but not yet signing.
    cached = ring.jwks()
    assert {k["kid"] for k in cached["keys"]} == {old_kid, new_kid}
    assert ring.signing_key().kid == old_kid

    clock.advance(DAY - dt.timedelta(minutes=1))
    assert ring.signing_key().kid == old_kid  # not before the publish delay

    clock.advance(dt.timedelta(minutes=2))
    after = ring.signing_key()
    assert after.kid == new_kid
    # A platform holding the JWKS it fetched before the switch verifies what is signed after it.
    assert _verify_with(cached, after.sign({"aud": "platform", "sub": "x"}))["sub"] == "x"


def test_retired_key_is_published_through_the_grace_period_then_leaves(ring: KeyRing, clock: Clock) -> None:
    old = ring.signing_key()
    signed_before_switch = old.sign({"aud": "platform"})
    ring.rotate()
    clock.advance(DAY + dt.timedelta(seconds=1))
    ring.signing_key()  # switch happens
    during_grace = ring.jwks()
    assert old.kid in {k["kid"] for k in during_grace["keys"]}
    _verify_with(during_grace, signed_before_switch)

    clock.advance(DAY + dt.timedelta(seconds=1))
    after_grace = {k["kid"] for k in ring.jwks()["keys"]}
    assert old.kid not in after_grace
    statuses = {k["kid"]: k["status"] for k in ring.describe()}
    assert statuses[old.kid] == "expired"


def test_one_rotation_at_a_time(ring: KeyRing) -> None:
    ring.rotate()
    with pytest.raises(RotationInProgress):
        ring.rotate()


def test_replicas_switch_together(database: Database, keys_dir: Path, ring: KeyRing, clock: Clock) -> None:
    """Two rings over one database and one keys dir (two replicas) agree on the signing key."""
    other = KeyRing(database, keys_dir, publish_delay=DAY, retire_grace=DAY, clock=clock)
    other.load()
    new_kid = ring.rotate()
    other.load()
    clock.advance(DAY + dt.timedelta(seconds=1))
    assert other.signing_key().kid == new_kid
    assert ring.signing_key().kid == new_kid
    assert [k["status"] for k in ring.describe()].count("active") == 1


def test_a_replica_without_the_new_key_file_does_not_switch(
    database: Database, keys_dir: Path, tmp_path: Path, ring: KeyRing, clock: Clock
) -> None:
    old_kid = ring.signing_key().kid
    lagging_dir = tmp_path / "lagging"
    lagging_dir.mkdir()
    (lagging_dir / f"{old_kid}.pem").write_bytes((keys_dir / f"{old_kid}.pem").read_bytes())
    lagging = KeyRing(database, lagging_dir, publish_delay=DAY, retire_grace=DAY, clock=clock)
    lagging.load()
    ring.rotate()
    clock.advance(DAY + dt.timedelta(seconds=1))
    lagging.advance(force=True)
    assert lagging.signing_key().kid == old_kid  # it cannot sign with a key it does not hold

    # Another replica switches; the lagging one keeps signing with the retired (still published) key.
    new = ring.signing_key()
    assert new.kid != old_kid
    token = lagging.signing_key().sign({"aud": "platform"})
    _verify_with(ring.jwks(), token)


def _audit(database: Database) -> list[tuple[str, str, str, dict[str, object]]]:
    with database.transaction() as s:
        return [(e.actor, e.action, e.target, dict(e.details or {})) for e in AuditRepository(s).list(limit=50)][::-1]


def test_rotation_and_promotion_are_audited(database: Database, keys_dir: Path, ring: KeyRing, clock: Clock,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGNAME", "ada")  # getpass.getuser() reads it first: the OS user who rotated
    old_kid = ring.signing_key().kid
    new_kid = ring.rotate()
    assert _audit(database) == [("cli:ada", "keys.add", new_kid, {"status": "next", "dev": False})]

    other = KeyRing(database, keys_dir, publish_delay=DAY, retire_grace=DAY, clock=clock)  # a second replica
    other.load()
    clock.advance(DAY + dt.timedelta(seconds=1))
    assert ring.signing_key().kid == new_kid and other.signing_key().kid == new_kid
    # One entry for the switch, however many replicas saw it.
    assert _audit(database)[1:] == [("gateway-key-schedule", "keys.promote", new_kid, {"retired": [old_kid]})]
