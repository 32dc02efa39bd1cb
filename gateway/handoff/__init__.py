"""Hand-off: how a verified arrival (LTI launch or Clever login) reaches the vendor app.

The browser goes to the vendor app's launch URL with ``?code=<one-time code>``;
the vendor back end redeems the code over the API (``POST /api/v1/launches/redeem``,
scope ``launches``) for the launch record. Codes are single use, short lived,
bound to one launch, stored only as a hash, and (optionally) bound to one API key.
Pattern: an OAuth authorization code with a back-channel exchange
(RFC 6749 §4.1), not a bearer token in a URL (RFC 6750 §5.3).

Public surface: what other packages may import is listed in ``__all__`` (``feature.py`` is for the composition
root only).
"""

from __future__ import annotations

from gateway.handoff.service import CodeStatus, Handoff, HandoffService

__all__ = ["CodeStatus", "Handoff", "HandoffService"]
