"""An HTTP outcome as a delivery result, by the one outbound rule in :mod:`gateway.retry`.

2xx is delivered; whatever that rule calls retryable (408, 429, a throttled 403, 5xx, no answer) is a retry
with the remote's wait hint; anything else fails at once, with the remote's answer kept for the operator.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import requests

from gateway import retry
from gateway.http import OutboundError
from gateway.writeback.backends import MAX_BODY_CHARS, DeliveryResult


def classify_status(
    status: int, headers: Mapping[str, str], body: str | None, now: dt.datetime | None = None
) -> DeliveryResult:
    """The result for an HTTP answer, from its plain parts (the testable core)."""
    kept = {name: value for name in retry.RETRY_HEADERS if (value := retry.header(headers, name)) is not None}
    text = body[:MAX_BODY_CHARS] if body else None
    decision = retry.decide(status, headers, now.timestamp() if now is not None else None)
    if decision.verdict == "success":
        return DeliveryResult.delivered(status=status, body=text, headers=kept)
    error = f"remote answered {status}"
    if decision.retryable:
        return DeliveryResult.retry(error, status=status, body=text, headers=kept, retry_after=decision.wait)
    return DeliveryResult.failed(error, status=status, body=text, headers=kept)


def classify_response(response: requests.Response, now: dt.datetime | None = None) -> DeliveryResult:
    """The result for a response from :meth:`gateway.http.HttpClient.request`."""
    # Decode only what is kept: a remote error page can be large.
    raw = response.content[: MAX_BODY_CHARS * 4] if response.content else b""
    try:
        body = raw.decode(response.encoding or "utf-8", errors="replace") if raw else None
    except LookupError:  # a charset name Python does not know
        body = raw.decode("utf-8", errors="replace")
    return classify_status(response.status_code, dict(response.headers), body, now)


def classify_outbound_error(error: OutboundError) -> DeliveryResult:
    """No answer arrived (timeout, refused or reset connection, TLS): always worth another try."""
    return DeliveryResult.retry(f"no answer from {error.system}: {error.reason}")
