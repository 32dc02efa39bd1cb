"""Stable error codes of LTI login, launch and deep linking, declared as data.

Every refusal a person can meet in an LMS frame has its own code (greppable, never reworded),
a title, and a hint a teacher or an LMS administrator can act on. The code is also the label
of the refusal metric and the ``error_code`` field of the log line.
"""

from __future__ import annotations

from typing import Any, ClassVar

from gateway.errors import GatewayError

_ADMIN = "Ask your LMS administrator to check the gateway registration"
_RETRY = "Go back to the course and open the activity again"


class LtiError(GatewayError):
    """Base of every LTI refusal. ``new_window`` errors offer to reopen the tool outside the frame."""

    new_window: ClassVar[bool] = False

    def __init__(self, message: str | None = None, *, retry_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_url = retry_url


def _declare(code: str, status: int, title: str, hint: str, *, new_window: bool = False) -> type[LtiError]:
    name = "".join(part.capitalize() for part in code.split("_"))
    attrs: dict[str, Any] = {
        "code": code, "status": status, "title": title, "default_hint": hint, "new_window": new_window,
    }
    made: type[LtiError] = type(name, (LtiError,), attrs)
    return made


# -- login initiation (step 1) -----------------------------------------------------------------------
LoginParamMissing = _declare(
    "LTI_LOGIN_PARAM_MISSING", 400, "The LMS did not send a complete LTI login",
    f"{_ADMIN}: the LMS must send iss, login_hint and target_link_uri to the gateway's login URL.")
LoginParamInvalid = _declare(
    "LTI_LOGIN_PARAM_INVALID", 400, "The LMS sent an LTI login the gateway cannot use",
    f"{_ADMIN}: a login parameter is too long or malformed; the error names it.")
IssuerUnknown = _declare(
    "LTI_ISSUER_UNKNOWN", 400, "This LMS is not connected to the gateway",
    f"{_ADMIN}: the platform issuer named in the message has no registration yet.")
ClientIdUnknown = _declare(
    "LTI_CLIENT_ID_UNKNOWN", 400, "This LMS tool registration is not known to the gateway",
    f"{_ADMIN}: the client id the LMS uses is not registered for this issuer.")
ClientIdRequired = _declare(
    "LTI_CLIENT_ID_REQUIRED", 400, "The LMS did not say which tool registration to use",
    f"{_ADMIN}: this issuer has several registrations, so the LMS must send client_id in the login.")
RegistrationDisabled = _declare(
    "LTI_REGISTRATION_DISABLED", 403, "This LMS connection is switched off",
    "An administrator disabled the gateway registration for this LMS; ask them to enable it.")
TargetLinkUriInvalid = _declare(
    "LTI_TARGET_LINK_URI_INVALID", 400, "The LMS asked to open an address the gateway does not serve",
    f"{_ADMIN}: the target link URI must be the gateway's launch URL.")

# -- what the platform posts back (step 3) -----------------------------------------------------------
PlatformLoginRequired = _declare(
    "LTI_PLATFORM_LOGIN_REQUIRED", 401, "The LMS could not confirm that you are signed in",
    "Your browser may be blocking the LMS's own cookies inside this frame. Open the tool in a new window, "
    "or sign in to the LMS again and retry.", new_window=True)
PlatformError = _declare(
    "LTI_PLATFORM_ERROR", 400, "The LMS refused to launch the tool",
    f"{_RETRY}. If it keeps happening, {_ADMIN[0].lower() + _ADMIN[1:]} and the tool's redirect URL.")
IdTokenMissing = _declare(
    "LTI_ID_TOKEN_MISSING", 400, "The LMS sent no launch token", f"{_RETRY}.")
IdTokenTooLarge = _declare(
    "LTI_ID_TOKEN_TOO_LARGE", 413, "The launch token is too large",
    f"{_ADMIN}: remove unneeded custom parameters from the tool placement.")
IdTokenMalformed = _declare(
    "LTI_ID_TOKEN_MALFORMED", 400, "The launch token is not a well-formed JWT", f"{_RETRY}.")
IdTokenNotLti = _declare(
    "LTI_ID_TOKEN_NOT_LTI", 400, "The launch token is not an LTI 1.3 message",
    f"{_ADMIN}: the token carries no issuer or audience.")
IdTokenUnsigned = _declare(
    "LTI_ID_TOKEN_UNSIGNED", 400, "The launch token is not signed",
    "Unsigned tokens (alg none) are never accepted; the LMS must sign launches with RS256.")
IdTokenAlgNotAllowed = _declare(
    "LTI_ID_TOKEN_ALG_NOT_ALLOWED", 400, "The launch token uses a signing algorithm that is not allowed",
    "LTI 1.3 launches must be signed with RS256 and the platform's published key.")
IdTokenKidMissing = _declare(
    "LTI_ID_TOKEN_KID_MISSING", 400, "The launch token does not name its signing key",
    f"{_ADMIN}: the token header must carry the platform key id (kid).")
IdTokenKidUnknown = _declare(
    "LTI_ID_TOKEN_KID_UNKNOWN", 400, "The launch token was signed with a key the LMS does not publish",
    f"{_ADMIN}: the key id is not in the platform's JWKS (check the JWKS URL).")
IdTokenSignatureInvalid = _declare(
    "LTI_ID_TOKEN_SIGNATURE_INVALID", 400, "The launch token's signature is not valid",
    f"{_ADMIN}: the token was not signed by the platform key it names.")
PlatformJwksUnavailable = _declare(
    "LTI_PLATFORM_JWKS_UNAVAILABLE", 502, "The gateway could not read the LMS's public keys",
    f"{_RETRY} in a minute. If it keeps happening, {_ADMIN[0].lower() + _ADMIN[1:]}'s JWKS URL.")
IdTokenExpired = _declare(
    "LTI_ID_TOKEN_EXPIRED", 400, "The launch token has expired", f"{_RETRY}; launch tokens live a few minutes.")
IdTokenIatInFuture = _declare(
    "LTI_ID_TOKEN_IAT_IN_FUTURE", 400, "The launch token was issued in the future",
    "The LMS's clock and the gateway's disagree by more than the allowed leeway; an administrator should "
    "check both clocks (NTP).")
IdTokenTimesInvalid = _declare(
    "LTI_ID_TOKEN_TIMES_INVALID", 400, "The launch token lacks valid exp and iat times",
    f"{_ADMIN}: exp and iat must be numeric times.")
IssuerMismatch = _declare(
    "LTI_ISSUER_MISMATCH", 400, "The launch came from another LMS than the login",
    f"{_RETRY}. The token's issuer differs from the platform the login was sent to.")
AudMismatch = _declare(
    "LTI_AUD_MISMATCH", 400, "The launch token was meant for another tool registration",
    f"{_ADMIN}: the token's audience does not contain the registration's client id.")
AzpMissing = _declare(
    "LTI_AZP_MISSING", 400, "The launch token names several audiences but no authorized party",
    f"{_ADMIN}: with several aud values the token must carry azp.")
AzpMismatch = _declare(
    "LTI_AZP_MISMATCH", 400, "The launch token's authorized party is another tool",
    f"{_ADMIN}: azp must equal the registration's client id.")
NonceMissing = _declare(
    "LTI_NONCE_MISSING", 400, "The launch token carries no nonce", f"{_RETRY}.")
NonceMismatch = _declare(
    "LTI_NONCE_MISMATCH", 400, "The launch token does not belong to this login", f"{_RETRY}.")
IdTokenReplayed = _declare(
    "LTI_ID_TOKEN_REPLAYED", 400, "This launch was already used",
    f"Each launch works once. {_RETRY} (refreshing the page resends the old launch).")
StateMissing = _declare(
    "LTI_STATE_MISSING", 400, "The launch carries no login state", f"{_RETRY}.")
StateUnknown = _declare(
    "LTI_STATE_UNKNOWN", 400, "The gateway did not start this login", f"{_RETRY}.")
StateExpired = _declare(
    "LTI_STATE_EXPIRED", 400, "The login took too long", f"{_RETRY}.")
StateMismatch = _declare(
    "LTI_STATE_MISMATCH", 400, "This launch was started in another browser or tab",
    f"{_RETRY} in this browser.", new_window=True)
StateCookieMissing = _declare(
    "LTI_STATE_COOKIE_MISSING", 400, "Your browser blocked the tool's cookie inside the LMS frame",
    "Open the tool in a new window: it will sign you in there without needing the blocked cookie.",
    new_window=True)
StateStorageUnavailable = _declare(
    "LTI_STATE_STORAGE_UNAVAILABLE", 400, "The LMS frame could not confirm this login",
    "Open the tool in a new window: it will sign you in there without the frame's storage.", new_window=True)

# -- claims -------------------------------------------------------------------------------------------
VersionMissing = _declare(
    "LTI_VERSION_MISSING", 400, "The launch does not say which LTI version it is",
    f"{_ADMIN}: the LMS must send LTI 1.3 launches.")
VersionUnsupported = _declare(
    "LTI_VERSION_UNSUPPORTED", 400, "The launch is not LTI 1.3.0",
    f"{_ADMIN}: the tool accepts LTI 1.3.0 launches only.")
MessageTypeMissing = _declare(
    "LTI_MESSAGE_TYPE_MISSING", 400, "The launch does not say what kind of message it is",
    f"{_ADMIN}: the LMS sent no message_type.")
MessageTypeUnsupported = _declare(
    "LTI_MESSAGE_TYPE_UNSUPPORTED", 400, "The tool does not handle this kind of launch",
    "Use the tool from a course link or the content picker (deep linking).")
DeploymentIdMissing = _declare(
    "LTI_DEPLOYMENT_ID_MISSING", 400, "The launch does not name its deployment", f"{_ADMIN}.")
SubMissing = _declare(
    "LTI_SUB_MISSING", 400, "The launch does not identify the user",
    "Anonymous launches cannot be handed to the app; sign in to the LMS and open the activity again.")
RolesMissing = _declare(
    "LTI_ROLES_MISSING", 400, "The launch carries no roles claim", f"{_ADMIN}: the LMS must send roles.")
TargetLinkUriMissing = _declare(
    "LTI_TARGET_LINK_URI_MISSING", 400, "The launch does not say what to open", f"{_ADMIN}.")
ResourceLinkMissing = _declare(
    "LTI_RESOURCE_LINK_MISSING", 400, "The launch does not name the course link it came from", f"{_ADMIN}.")
ResourceLinkIdMissing = _declare(
    "LTI_RESOURCE_LINK_ID_MISSING", 400, "The launch's course link has no id", f"{_ADMIN}.")
ContextMissing = _declare(
    "LTI_CONTEXT_MISSING", 400, "The launch did not come from a course",
    "Open the tool from inside a course: the app needs to know which class you are in.")
DeepLinkingSettingsMissing = _declare(
    "LTI_DEEP_LINKING_SETTINGS_MISSING", 400, "The content-selection launch carries no deep linking settings",
    f"{_ADMIN}.")
ForUserMissing = _declare(
    "LTI_FOR_USER_MISSING", 400, "The launch does not say which user it is about", f"{_ADMIN}.")
AgsEndpointMissing = _declare(
    "LTI_AGS_ENDPOINT_MISSING", 400, "The launch does not name its grade line item", f"{_ADMIN}.")
ClaimInvalid = _declare(
    "LTI_CLAIM_INVALID", 400, "A launch claim has the wrong shape", f"{_ADMIN}; the error names the claim.")
ClaimsMissing = _declare(
    "LTI_CLAIMS_MISSING", 400, "The launch lacks several required claims",
    f"{_ADMIN}; the error lists the missing claims.")

# -- deployments ---------------------------------------------------------------------------------------
DeploymentUnknown = _declare(
    "LTI_DEPLOYMENT_UNKNOWN", 403, "This LMS deployment is waiting for approval",
    "The gateway has recorded this new deployment; an administrator must approve it before it can be used.")
DeploymentPending = _declare(
    "LTI_DEPLOYMENT_PENDING", 403, "This LMS deployment is waiting for approval",
    "An administrator must approve this deployment before it can be used.")
DeploymentDisabled = _declare(
    "LTI_DEPLOYMENT_DISABLED", 403, "This LMS deployment is switched off",
    "An administrator disabled this deployment; ask them to enable it.")
DeploymentMismatch = _declare(
    "LTI_DEPLOYMENT_MISMATCH", 400, "The launch names another deployment than the login", f"{_RETRY}.")

# -- deep linking (vendor API) ------------------------------------------------------------------------
NotDeepLinking = _declare(
    "LTI_LAUNCH_NOT_DEEP_LINKING", 409, "This launch is not a deep-linking request",
    "Only launches with message_type LtiDeepLinkingRequest take a deep-link response.")
DeepLinkTypeNotAccepted = _declare(
    "LTI_DEEP_LINK_TYPE_NOT_ACCEPTED", 422, "The LMS does not accept this content item type",
    "Send only types listed in the launch's deep_linking.accept_types.")
DeepLinkMultipleNotAccepted = _declare(
    "LTI_DEEP_LINK_MULTIPLE_NOT_ACCEPTED", 422, "The LMS accepts one content item only",
    "The launch's deep_linking.accept_multiple is false; send at most one item.")
DeepLinkLineItemNotAccepted = _declare(
    "LTI_DEEP_LINK_LINE_ITEM_NOT_ACCEPTED", 422, "The LMS does not accept line items with content",
    "The launch's deep_linking.accept_lineitem is false; send items without lineItem.")

# -- registrations and deployments: management (CLI, admin API) -----------------------------------------
_LIST = "List them with `gateway registrations list` or GET /api/v1/admin/lti/registrations"
RegistrationNotFound = _declare(
    "LTI_REGISTRATION_NOT_FOUND", 404, "No such LMS registration", f"Check the registration id. {_LIST}.")
DeploymentNotFound = _declare(
    "LTI_DEPLOYMENT_NOT_FOUND", 404, "No such LMS deployment",
    "Check the deployment id (`dep_...`). List them with `gateway deployments list`.")
RegistrationDuplicate = _declare(
    "LTI_REGISTRATION_EXISTS", 409, "This LMS registration exists already",
    f"A registration is unique by issuer and client id: update the one there is. {_LIST}.")
DeploymentDuplicate = _declare(
    "LTI_DEPLOYMENT_EXISTS", 409, "This deployment is known already",
    "Approve or disable the deployment there is (`gateway deployments approve|disable`).")

# -- dynamic registration (lti-dr v1p0) ------------------------------------------------------------------
_DR_RETRY = "Start the registration again from the LMS's page for adding a tool by registration URL"
DynamicRegistrationOff = _declare(
    "LTI_DR_DISABLED", 403, "Dynamic registration is switched off on this gateway",
    "Ask the tool's operator for the values to register it by hand, or to allow dynamic registration "
    "(GATEWAY_LTI_DYNAMIC_REGISTRATION).")
DrParamMissing = _declare(
    "LTI_DR_PARAM_MISSING", 400, "The LMS did not start a dynamic registration",
    f"{_DR_RETRY}: the LMS adds openid_configuration to the registration URL.")
DrConfigUrlInvalid = _declare(
    "LTI_DR_CONFIG_URL_INVALID", 400, "The LMS's configuration address cannot be used",
    "openid_configuration must be an absolute https:// URL (http is accepted in development only).")
DrHostNotAllowed = _declare(
    "LTI_DR_HOST_NOT_ALLOWED", 403, "This LMS may not register itself with the gateway",
    "The gateway accepts dynamic registration only from the hosts in GATEWAY_LTI_DYNAMIC_REGISTRATION_HOSTS; "
    "ask the tool's operator to add this LMS.")
DrConfigInvalid = _declare(
    "LTI_DR_CONFIG_INVALID", 502, "The LMS's configuration is not a usable LTI platform configuration",
    "The LMS's OpenID configuration lacks a required member (the error names it); ask the LMS's support.")
DrIssuerHostMismatch = _declare(
    "LTI_DR_ISSUER_HOST_MISMATCH", 400, "The LMS's configuration names an issuer on another host",
    "The issuer must be on the host that served the configuration; nothing was registered. "
    "Check that the registration was started from the LMS itself.")
DrRegistrationRefused = _declare(
    "LTI_DR_REGISTRATION_REFUSED", 502, "The LMS refused the tool's registration",
    f"{_DR_RETRY}: the registration token may have expired or been used already.")
DrRegistrationInvalid = _declare(
    "LTI_DR_REGISTRATION_INVALID", 502, "The LMS's answer to the registration is not usable",
    "The LMS accepted the tool but sent no client id; nothing was stored. Ask the LMS's support.")
DrRegistrationExists = _declare(
    "LTI_DR_REGISTRATION_EXISTS", 409, "The gateway has this LMS registration already",
    "The LMS answered with a client id the gateway already holds for this issuer; nothing was changed. "
    "Remove the new duplicate tool in the LMS and keep using the registration there is.")
DrEndpointHostMismatch = _declare(
    "LTI_DR_ENDPOINT_HOST_MISMATCH", 400, "The LMS's configuration names a registration address on another host",
    "The registration endpoint must be on the host that served the configuration; nothing was sent there and "
    "nothing was registered. Check that the registration was started from the LMS itself.")
DrPlatformUnreachable = _declare(
    "LTI_DR_PLATFORM_UNREACHABLE", 502, "The gateway could not read the LMS's configuration",
    f"{_DR_RETRY} in a minute. If it keeps failing, the tool's operator can find the reason in the gateway's "
    "log; the LMS's configuration address must answer with its OpenID configuration.")
DrAddressNotAllowed = _declare(
    "LTI_DR_ADDRESS_NOT_ALLOWED", 403, "The LMS's address cannot be used for dynamic registration",
    "The gateway registers only LMSs on public internet addresses. An LMS on a private network can be "
    "registered by the tool's operator by hand (`gateway registrations add`).")
DrBusy = _declare(
    "LTI_DR_BUSY", 503, "The gateway is handling other registrations right now",
    f"{_DR_RETRY} in a minute: only a few registrations run at once "
    "(GATEWAY_LTI_DYNAMIC_REGISTRATION_CONCURRENCY).")
