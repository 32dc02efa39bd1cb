"""Clever: the OAuth callback for Library, District SSO and Secure Sync, the API client, and roster sync.

What it implements, and where the facts come from:

* OAuth 2.0 authorization-code flow with HTTP Basic at ``{oauth base}/oauth/tokens``, Clever-initiated logins
  without ``state`` on the first redirect URI, single-use one-minute codes (https://dev.clever.com/docs/il-design,
  .../docs/oauth-implementation, .../docs/il-troubleshooting).
* Identity from ``GET /v3.0/me`` then ``GET /v3.0/users/{id}``; ``authorized_by`` tells Library (``teacher``)
  from district logins (``district``) (https://dev.clever.com/docs/district-sso-vs-library-sso).
* Secure Sync: district-app tokens from ``GET /oauth/tokens?owner_type=district`` (.../docs/onboarding), the Data
  API v3.1 (Clever's ``v3.1.yml``, https://github.com/Clever/swagger-api) paged by ``links`` ``rel=next``, the
  Events API (``v3.1-events.yml``), 1,200 requests a minute per token and ``X-RateLimit-Reset``
  (https://dev.clever.com/reference/responses-errors).
* LMS Connect assignments and submissions (Clever LMS Connect API v3.1, ``v3.1-lms.yml``), as client methods.

Protocol cores (``client``, ``transport``, ``oauth``, ``profile``, ``roster``) take plain values; ``views`` and
``api`` are the thin Flask edges.

Public surface: what other packages may import is listed in ``__all__`` (``feature.py`` is for the composition
root only).
"""

from __future__ import annotations

from gateway.clever.client import CleverClient, build_client
from gateway.clever.config import CleverConfig
from gateway.clever.errors import (
    CleverApiError,
    CleverBadResponse,
    CleverNotFound,
    CleverRateLimited,
    CleverTokenRejected,
    CleverUnavailable,
    CleverWrongToken,
)
from gateway.clever.lms import AssignmentDraft, SubmissionUpdate
from gateway.clever.login import BINDING_COOKIE, CleverLogin, Handback, LoginStart
from gateway.clever.privacy import LookupDigest, sha256_hex
from gateway.clever.ratelimit import RateLimiter
from gateway.clever.service import CleverServices
from gateway.clever.transport import CleverTransport
from gateway.clever.types import CleverUser, Me

__all__ = [
    "BINDING_COOKIE",
    "AssignmentDraft",
    "CleverApiError",
    "CleverBadResponse",
    "CleverClient",
    "CleverConfig",
    "CleverLogin",
    "CleverNotFound",
    "CleverRateLimited",
    "CleverServices",
    "CleverTokenRejected",
    "CleverTransport",
    "CleverUnavailable",
    "CleverUser",
    "CleverWrongToken",
    "Handback",
    "LoginStart",
    "LookupDigest",
    "Me",
    "RateLimiter",
    "SubmissionUpdate",
    "build_client",
    "sha256_hex",
]
