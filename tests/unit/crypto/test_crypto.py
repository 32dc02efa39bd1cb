"""The encryption helper: round trips, key rotation, tampering and context binding."""

from __future__ import annotations

import pytest

from gateway.crypto import Cipher, DecryptionError, generate_key_spec, parse_keys
from gateway.settings import SettingsError


@pytest.fixture
def old_spec() -> str:
    return generate_key_spec("k1")


@pytest.fixture
def new_spec() -> str:
    return generate_key_spec("k2")


def test_round_trip_and_no_plaintext(old_spec: str) -> None:
    cipher = Cipher.from_spec(old_spec)
    token = cipher.encrypt("refresh-token-abc", "clever.token:d1")
    assert "refresh-token-abc" not in token
    assert token.startswith("v1.k1.")
    assert cipher.decrypt(token, "clever.token:d1") == "refresh-token-abc"


def test_same_plaintext_encrypts_differently(old_spec: str) -> None:
    cipher = Cipher.from_spec(old_spec)
    assert cipher.encrypt("x") != cipher.encrypt("x")


def test_rotation_keeps_old_values_readable(old_spec: str, new_spec: str) -> None:
    token = Cipher.from_spec(old_spec).encrypt("secret")
    rotated = Cipher.from_spec(f"{new_spec},{old_spec}")
    assert rotated.decrypt(token) == "secret"
    assert rotated.needs_reencrypt(token)
    assert rotated.encrypt("secret").startswith("v1.k2.")


def test_unknown_key_id_is_refused(old_spec: str, new_spec: str) -> None:
    token = Cipher.from_spec(old_spec).encrypt("secret")
    with pytest.raises(DecryptionError):
        Cipher.from_spec(new_spec).decrypt(token)


def test_tampering_is_detected(old_spec: str) -> None:
    cipher = Cipher.from_spec(old_spec)
    token = cipher.encrypt("secret")
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(DecryptionError):
        cipher.decrypt(flipped)


def test_value_moved_to_another_context_does_not_decrypt(old_spec: str) -> None:
    cipher = Cipher.from_spec(old_spec)
    token = cipher.encrypt("secret", "row:1")
    with pytest.raises(DecryptionError):
        cipher.decrypt(token, "row:2")


@pytest.mark.parametrize("spec", ["", "nokey", "k1:not-base64!!", "k1:YWJj", "k.1:" + "A" * 44])
def test_malformed_key_specs_are_refused(spec: str) -> None:
    with pytest.raises(SettingsError):
        parse_keys(spec)
