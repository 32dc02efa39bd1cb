"""The LTI 1.1 migration claim: who a launching person was under the LTI 1.1 tool this registration replaces.

A platform moving a district from LTI 1.1 to 1.3 (Canvas, Schoology, Blackboard, Brightspace on migrated links)
adds ``https://purl.imsglobal.org/spec/lti/claim/lti1p1`` to its launches (LTI 1.3 Core, "LTI 1.1 migration
claim": https://www.imsglobal.org/spec/lti/v1p3/migr#lti-1-1-migration-claim)::

    {"user_id": "34212", "oauth_consumer_key": "179248902",
     "oauth_consumer_key_sign": base64(HMAC-SHA256(key=1.1 shared secret, msg=base string))}

and the base string is ``oauth_consumer_key & deployment_id & iss & client_id & exp & nonce`` (UTF-8, joined by
``&``, the values of this very token). Only a tool holding the 1.1 secret can tell the claim is genuine: without
the signature anyone with a 1.3 registration could claim to be any 1.1 user, so a claim is trusted (recorded,
shown, matched on) only when its signature holds under the registration's 1.1 secret. ``user_id`` is sent when
the 1.1 user id differs from ``sub``; absent, the 1.1 id is ``sub``.

Plain values in and out: :class:`gateway.lti.launch.LaunchService` decrypts the secret, calls :func:`check_claim`
and records what it says.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import gateway.lti.claims as c

VERIFIED: Final = "verified"
UNSIGNED: Final = "unsigned"  # no oauth_consumer_key_sign
BAD_SIGNATURE: Final = "bad_signature"
# Outcome names, not secrets (S105 reads "secret" in the name).
NO_SECRET: Final = "no_secret"  # noqa: S105  # the registration has no 1.1 secret to check it with
SECRET_UNREADABLE: Final = "secret_unreadable"  # noqa: S105  # the stored secret does not decrypt (key removed)
MALFORMED: Final = "malformed"  # not an object, or no usable oauth_consumer_key / user id
OUTCOMES: Final = (VERIFIED, UNSIGNED, BAD_SIGNATURE, NO_SECRET, SECRET_UNREADABLE, MALFORMED)
MAX_ID: Final = 255  # the identity columns' size, as every other LTI id the gateway stores
MAX_SECRET: Final = 1000


@dataclass(frozen=True)
class Lti1p1Identity:
    """A person's LTI 1.1 identity: unique within the 1.1 consumer key."""

    oauth_consumer_key: str
    user_id: str

    def document(self) -> dict[str, str]:
        return {"oauth_consumer_key": self.oauth_consumer_key, "user_id": self.user_id}


@dataclass(frozen=True)
class MigrationCheck:
    outcome: str
    identity: Lti1p1Identity | None = None  # set only when ``outcome`` is ``verified``

    @property
    def verified(self) -> bool:
        return self.outcome == VERIFIED


def secret_context(registration_id: str) -> str:
    """The associated data binding an encrypted 1.1 secret to its registration (a copied value does not decrypt)."""
    return f"lti_registrations.lti11_secret:{registration_id}"


def _number(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return None


def signature_base(*, oauth_consumer_key: str, deployment_id: str, issuer: str, client_id: str, exp: str,
                   nonce: str) -> str:
    return "&".join((oauth_consumer_key, deployment_id, issuer, client_id, exp, nonce))


def _digest(base: str, secret: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), base.encode("utf-8"), hashlib.sha256).digest()


def sign(base: str, secret: str) -> str:
    """``oauth_consumer_key_sign``: base64 of HMAC-SHA256 over the base string, keyed by the 1.1 shared secret."""
    return base64.b64encode(_digest(base, secret)).decode("ascii")


def _short_id(value: Any) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= MAX_ID else None


def check_claim(claims: Mapping[str, Any], *, client_id: str, secret: str | None,
                secret_unreadable: bool = False) -> MigrationCheck | None:
    """What the launch's migration claim is worth; None when the launch carries none.

    ``claims`` are the verified token's; ``client_id`` the registration's (the token's ``aud`` held it).
    """
    if c.LTI1P1 not in claims:
        return None
    claim = claims[c.LTI1P1]
    if not isinstance(claim, Mapping):
        return MigrationCheck(MALFORMED)
    consumer_key = _short_id(claim.get("oauth_consumer_key"))
    given_user = claim.get("user_id")
    user_id = _short_id(given_user) if given_user not in (None, "") else _short_id(claims.get("sub"))
    if consumer_key is None or user_id is None:
        return MigrationCheck(MALFORMED)
    signature = claim.get("oauth_consumer_key_sign")
    if not isinstance(signature, str) or not signature:
        return MigrationCheck(UNSIGNED)
    if secret_unreadable:
        return MigrationCheck(SECRET_UNREADABLE)
    if secret is None:
        return MigrationCheck(NO_SECRET)
    exp, nonce, issuer = _number(claims.get("exp")), claims.get("nonce"), claims.get("iss")
    deployment_id = claims.get(c.DEPLOYMENT_ID)
    if exp is None or not isinstance(nonce, str) or not isinstance(issuer, str) or not isinstance(deployment_id, str):
        return MigrationCheck(BAD_SIGNATURE)
    base = signature_base(oauth_consumer_key=consumer_key, deployment_id=deployment_id, issuer=issuer,
                          client_id=client_id, exp=exp, nonce=nonce)
    expected = _digest(base, secret)
    try:
        given = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        return MigrationCheck(BAD_SIGNATURE)
    if not hmac.compare_digest(expected, given):
        return MigrationCheck(BAD_SIGNATURE)
    return MigrationCheck(VERIFIED, Lti1p1Identity(consumer_key, user_id))
