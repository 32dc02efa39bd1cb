"""The LMS answers the authentication request with an error instead of an id_token (step 3, error branch).

Codes: OpenID Connect Core 1.0 §3.1.2.6 (https://openid.net/specs/openid-connect-core-1_0.html#AuthError)
and RFC 6749 §4.1.2.1, as LTI 1.3 platforms send them (Canvas answers ``login_required``,
"Must have an active user session", when its own session cookie is blocked in the frame).

The platform's ``error_description`` is never shown nor logged: it arrives in an unauthenticated POST that
anyone can forge, and a page at the gateway's origin repeating it would lend the gateway's name to whatever
an attacker writes there. Each known code gets a fixed explanation and hint; any other code gets a generic one
that does not repeat it. Only the code is logged, and only when it is shaped like one.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import gateway.lti.errors as errors
from gateway.ops.logs import log_event

log = logging.getLogger("gateway.lti.platform_errors")

# RFC 6749 §5.2 allows printable ASCII in an error code; real ones are snake_case words.
_CODE_SHAPE = re.compile(r"^[A-Za-z0-9_.-]{1,60}$")
_ADMIN = "ask your LMS administrator to check the tool's registration in the LMS (client id, redirect URL)"


@dataclass(frozen=True)
class Explanation:
    error: type[errors.LtiError]
    message: str
    hint: str


_SIGN_IN = Explanation(
    errors.PlatformLoginRequired,
    "The LMS answered login_required: it could not confirm from inside this frame that you are signed in.",
    "Your browser may be blocking the LMS's own cookies inside the frame. Open the tool in a new window, "
    "or sign in to the LMS again and retry.",
)

KNOWN: dict[str, Explanation] = {
    "login_required": _SIGN_IN,
    "interaction_required": Explanation(
        errors.PlatformLoginRequired,
        "The LMS answered interaction_required: it needs you to do something (sign in or confirm) first.",
        _SIGN_IN.hint,
    ),
    "consent_required": Explanation(
        errors.PlatformLoginRequired,
        "The LMS answered consent_required: it wants you to allow this tool before it opens.",
        "Open the tool in a new window and accept the LMS's prompt, or ask your LMS administrator to allow it.",
    ),
    "invalid_request": Explanation(
        errors.PlatformError,
        "The LMS answered invalid_request: it found the tool's sign-in request incomplete or not as it expects.",
        f"Go back to the course and open the activity again. If it keeps happening, {_ADMIN}.",
    ),
    "unauthorized_client": Explanation(
        errors.PlatformError,
        "The LMS answered unauthorized_client: this tool registration may not launch from this LMS.",
        "The tool may be missing, switched off or registered with another client id in the LMS; "
        f"{_ADMIN}.",
    ),
    "access_denied": Explanation(
        errors.PlatformError,
        "The LMS answered access_denied: it did not allow you to open this tool.",
        "Your role or the course settings may not include this tool; ask your teacher or LMS administrator.",
    ),
    "server_error": Explanation(
        errors.PlatformError,
        "The LMS answered server_error: it had a problem of its own while signing you in.",
        "Wait a few minutes and open the activity again. If it keeps happening, contact the LMS's support.",
    ),
    "temporarily_unavailable": Explanation(
        errors.PlatformError,
        "The LMS answered temporarily_unavailable: it is busy or under maintenance.",
        "Wait a few minutes and open the activity again.",
    ),
    "invalid_scope": Explanation(
        errors.PlatformError,
        "The LMS answered invalid_scope: it does not accept the tool's sign-in request.",
        f"This is a setup problem, not yours; {_ADMIN}.",
    ),
    "unsupported_response_type": Explanation(
        errors.PlatformError,
        "The LMS answered unsupported_response_type: it does not accept the tool's sign-in request.",
        f"This is a setup problem, not yours; {_ADMIN}.",
    ),
}

GENERIC = Explanation(
    errors.PlatformError,
    "The LMS answered the tool's sign-in request with an error instead of a launch.",
    f"Go back to the course and open the activity again. If it keeps happening, {_ADMIN}.",
)


def platform_error(code: str) -> errors.LtiError:
    """The refusal for an error post: a fixed text per known code; the platform's own words never reach the page."""
    explanation = KNOWN.get(code)
    shown = code if explanation is not None else "unrecognized"
    # The log keeps what the LMS said (its code, when well-formed) so an operator can look it up.
    logged = code if _CODE_SHAPE.match(code) else "malformed"
    log_event(log, logging.WARNING, "lms answered with an error", platform_error=logged, known=explanation is not None)
    explanation = explanation or GENERIC
    return explanation.error(explanation.message, hint=explanation.hint, extra={"platform_error": shown})
