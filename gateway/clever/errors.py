"""Stable error codes of the Clever feature.

Two families: refusals of the login callback (a person sees them as an HTML page) and failures of calls to
Clever (the client raises them; the callback, the sync and the writeback worker decide what to do).
"""

from __future__ import annotations

from typing import Any, ClassVar

from gateway.errors import GatewayError

_LOG_IN_AGAIN = "Go back to Clever and open the app again, or use “Log in with Clever”."


# -- login callback -------------------------------------------------------------------------------


class CleverNotConfigured(GatewayError):
    code = "CLEVER_NOT_CONFIGURED"
    status = 503
    title = "Clever login is not set up"
    default_hint = "The operator must set GATEWAY_CLEVER_CLIENT_ID and GATEWAY_CLEVER_CLIENT_SECRET."


class CleverCodeMissing(GatewayError):
    code = "CLEVER_CODE_MISSING"
    status = 400
    title = "The sign-in link is incomplete"
    default_hint = _LOG_IN_AGAIN


class CleverAccessDenied(GatewayError):
    code = "CLEVER_ACCESS_DENIED"
    status = 403
    title = "Clever did not allow the sign-in"
    default_hint = "Ask your teacher or district whether this app is turned on for you, then try again."


class CleverStateMismatch(GatewayError):
    code = "CLEVER_STATE_MISMATCH"
    status = 403
    title = "This sign-in was started in another browser or tab"
    default_hint = "Start again from “Log in with Clever” in this browser."


class CleverStateExpired(GatewayError):
    code = "CLEVER_STATE_EXPIRED"
    status = 403
    title = "This sign-in took too long"
    default_hint = "Start again from “Log in with Clever”."


class CleverStateMissing(GatewayError):
    code = "CLEVER_STATE_MISSING"
    status = 403
    title = "The sign-in could not be confirmed"
    default_hint = "Start again from “Log in with Clever” in this browser."


class CleverCodeReplayed(GatewayError):
    code = "CLEVER_CODE_ALREADY_USED"
    status = 409
    title = "This sign-in link was already used"
    default_hint = _LOG_IN_AGAIN


class CleverLoginInProgress(GatewayError):
    code = "CLEVER_LOGIN_IN_PROGRESS"
    status = 409
    title = "This sign-in is still being processed"
    default_hint = "Wait a moment and reload the page, or sign in again."


class CleverBusy(GatewayError):
    code = "CLEVER_BUSY"
    status = 503
    title = "Clever is busy, try again"
    default_hint = "Wait a few seconds, then go back to Clever and open the app again, or use “Log in with Clever”."


class CleverInvalidGrant(GatewayError):
    code = "CLEVER_INVALID_GRANT"
    status = 400
    title = "Clever did not accept the sign-in code"
    default_hint = "Sign-in codes last one minute and work once. " + _LOG_IN_AGAIN


class CleverUserIncomplete(GatewayError):
    code = "CLEVER_USER_INCOMPLETE"
    status = 502
    title = "Clever sent an incomplete user record"
    default_hint = "Try again in a minute. If it keeps happening, contact support with the request id."


# -- calls to Clever --------------------------------------------------------------------------------


class CleverApiError(GatewayError):
    """A call to Clever failed. ``clever_status`` is Clever's HTTP status (0 when none arrived)."""

    retryable: ClassVar[bool] = False

    def __init__(self, message: str | None = None, *, clever_status: int = 0, retry_after: float | None = None,
                 clever_headers: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.clever_status = clever_status
        self.retry_after = retry_after
        # Clever's rate-limit and retry headers of the answer (``X-RateLimit-*``, ``Retry-After``), for reports;
        # not ``self.headers``, which a GatewayError sends to its own caller.
        self.clever_headers = dict(clever_headers or {})


class CleverUnavailable(CleverApiError):
    code = "CLEVER_UNAVAILABLE"
    status = 502
    title = "Clever is not answering"
    retryable = True


class CleverRateLimited(CleverApiError):
    code = "CLEVER_RATE_LIMITED"
    status = 503
    title = "Clever asked us to slow down"
    default_hint = "The gateway retries when Clever's rate-limit window resets."
    retryable = True


class CleverBadRequest(CleverApiError):
    code = "CLEVER_BAD_REQUEST"
    status = 502
    title = "Clever refused the request"
    default_hint = "This is not retried. Check the data sent; Clever's message is in the logs of the caller."


class CleverTokenRejected(CleverApiError):
    code = "CLEVER_TOKEN_REJECTED"
    status = 502
    title = "Clever rejected the access token"
    default_hint = "The district may have disconnected the app; run `gateway clever districts sync`."


class CleverWrongToken(CleverApiError):
    code = "CLEVER_WRONG_TOKEN"
    status = 502
    title = "Clever answered with a web page instead of data"
    default_hint = "This happens when a token is used for a resource it cannot reach (for example a login token "\
        "for roster data)."


class CleverNotFound(CleverApiError):
    code = "CLEVER_NOT_FOUND"
    status = 404
    title = "Clever has no such record for this token"
    default_hint = "The record may have been deleted or unshared by the district."


class CleverBadResponse(CleverApiError):
    code = "CLEVER_BAD_RESPONSE"
    status = 502
    title = "Clever's answer could not be read"


# -- roster API -------------------------------------------------------------------------------------


class CleverDistrictNotFound(GatewayError):
    code = "CLEVER_DISTRICT_NOT_FOUND"
    status = 404
    title = "No such Clever district"
    default_hint = "List districts with GET /api/v1/clever/districts; tokens are discovered by the token sync."


class CleverDistrictDisconnected(GatewayError):
    code = "CLEVER_DISTRICT_DISCONNECTED"
    status = 409
    title = "The district has disconnected the app"
    default_hint = "The district must reconnect the app in Clever; then run `gateway clever districts sync`."


class CleverSectionNotFound(GatewayError):
    code = "CLEVER_SECTION_NOT_FOUND"
    status = 404
    title = "No such Clever section"


class CleverRosterUserNotFound(GatewayError):
    code = "CLEVER_USER_NOT_FOUND"
    status = 404
    title = "No such Clever user in the roster"
