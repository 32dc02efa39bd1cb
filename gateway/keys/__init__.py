"""Tool signing keys: the key ring, its CLI, and the public JWKS at ``/.well-known/jwks.json``.

The gateway signs client assertions (RFC 7523) and Deep Linking responses with
RS256. Private keys are PEM files under ``GATEWAY_KEYS_DIR`` (``<kid>.pem``; dev
keys are ``<kid>.dev.pem``) or one PEM from ``GATEWAY_SIGNING_KEY_PEM``; their
status (``next``, ``active``, ``retired``) lives in the ``tool_keys`` table.

Public surface: what other packages may import is listed in ``__all__`` (``feature.py`` is for the composition
root only).
"""

from __future__ import annotations

from gateway.keys.ring import KeyRing, NoSigningKey, RotationInProgress, operator_actor, thumbprint_kid
from gateway.keys.service import KeysServices

__all__ = [
    "KeyRing",
    "KeysServices",
    "NoSigningKey",
    "RotationInProgress",
    "operator_actor",
    "thumbprint_kid",
]
