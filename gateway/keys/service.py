"""The signing-keys services: the key ring and the settings its commands report."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from gateway.keys.ring import KeyRing, NoSigningKey
from gateway.settings import Settings


@dataclass(frozen=True)
class KeysServices:
    settings: Settings
    keyring: KeyRing

    def signing_key_ready(self) -> bool:
        """Load the keys (another replica may have rotated) and say whether one can sign now."""
        try:
            self.keyring.load()
            self.keyring.signing_key()
        except (NoSigningKey, SQLAlchemyError):
            return False
        return True
