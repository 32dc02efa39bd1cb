"""What the health routes check: the database, its migrations, and a signing key (given by the root)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gateway.core import Core


@dataclass(frozen=True)
class HealthServices:
    core: Core
    # Loads the signing keys and returns whether one can sign now; the keys feature gives it.
    signing_key_ready: Callable[[], bool]
