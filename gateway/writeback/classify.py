"""One rule, shared by every backend, for what an HTTP outcome means for a delivery.

- 2xx: delivered.
- 408, 429 and 5xx: retry; so is no answer at all (timeout, refused connection, reset).
- 403 with ``X-Rate-Limit-Remaining: 0``: retry (Canvas throttles with a 403, vendor-api-anchors §5).
- Any other status: failed at once, with the remote's answer kept for the operator.

The remote's wait hint is honoured: ``Retry-After`` as delta-seconds or an HTTP date
(RFC 9110 §10.2.3) and ``X-RateLimit-Reset`` as Unix epoch seconds (Clever, clever-brief
§3.7; a small value is read as seconds from now, as some APIs send).
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Mapping

import requests

from gateway.http import OutboundError
from gateway.writeback.backends import MAX_BODY_CHARS, DeliveryResult

# Headers worth keeping with a remote answer: they explain a retry's timing.
RETRY_HEADERS = (
    "Retry-After",
    "X-RateLimit-Reset",
    "X-RateLimit-Remaining",
    "X-RateLimit-Limit",
    "X-Rate-Limit-Remaining",
)
# Epoch seconds are far larger than any sane "seconds from now".
_EPOCH_THRESHOLD = 1_000_000_000


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or dt.datetime.now(dt.UTC)


def parse_retry_after(value: str, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value, or None when it is malformed."""
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - _now(now)).total_seconds())


def parse_rate_limit_reset(value: str, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from an ``X-RateLimit-Reset`` value, or None when it is malformed."""
    try:
        reset = float(value.strip())
    except ValueError:
        return None
    if reset != reset or reset < 0:  # NaN or negative
        return None
    if reset >= _EPOCH_THRESHOLD:
        return max(0.0, reset - _now(now).timestamp())
    return reset


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def wait_hint(headers: Mapping[str, str], now: dt.datetime | None = None) -> float | None:
    """The longest wait the remote asked for, from any header it sent, or None."""
    hints: list[float] = []
    retry_after = _header(headers, "Retry-After")
    if retry_after is not None and (seconds := parse_retry_after(retry_after, now)) is not None:
        hints.append(seconds)
    reset = _header(headers, "X-RateLimit-Reset")
    if reset is not None and (seconds := parse_rate_limit_reset(reset, now)) is not None:
        hints.append(seconds)
    return max(hints) if hints else None


def _throttled_403(headers: Mapping[str, str]) -> bool:
    remaining = _header(headers, "X-Rate-Limit-Remaining")
    if remaining is None:
        return False
    try:
        return float(remaining) <= 0
    except ValueError:
        return False


def is_retryable(status: int, headers: Mapping[str, str] | None = None) -> bool:
    if status in (408, 429) or 500 <= status <= 599:
        return True
    return status == 403 and _throttled_403(headers or {})


def classify_status(
    status: int, headers: Mapping[str, str], body: str | None, now: dt.datetime | None = None
) -> DeliveryResult:
    """The result for an HTTP answer, from its plain parts (the testable core)."""
    kept = {name: value for name in RETRY_HEADERS if (value := _header(headers, name)) is not None}
    text = body[:MAX_BODY_CHARS] if body else None
    if 200 <= status <= 299:
        return DeliveryResult.delivered(status=status, body=text, headers=kept)
    error = f"remote answered {status}"
    if is_retryable(status, headers):
        return DeliveryResult.retry(error, status=status, body=text, headers=kept, retry_after=wait_hint(headers, now))
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
