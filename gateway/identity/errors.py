"""Stable error codes of identity matching: the Clever-login link flow (people see a page) and the admin API."""

from __future__ import annotations

from gateway.errors import GatewayError

_ADMIN = "Ask your school's administrator to check your account link; quote the error code."
_RELAUNCH = "Go back to your course and open the activity again."


class IdentityError(GatewayError):
    """Base of every identity refusal."""


class IdentityLinkUnknown(IdentityError):
    code = "IDENTITY_LINK_UNKNOWN"
    status = 404
    title = "This account-link page is not valid"
    default_hint = _RELAUNCH


class IdentityLinkExpired(IdentityError):
    code = "IDENTITY_LINK_EXPIRED"
    status = 410
    title = "This account-link page has expired or was already used"
    default_hint = _RELAUNCH


class IdentityCleverIdLinkedElsewhere(IdentityError):
    code = "IDENTITY_CLEVER_ID_LINKED_ELSEWHERE"
    status = 409
    title = "This Clever account is already linked to another account in this LMS"
    default_hint = _ADMIN


class IdentityMergeRequired(IdentityError):
    code = "IDENTITY_MERGE_REQUIRED"
    status = 409
    title = "This Clever account already belongs to another gateway user"
    default_hint = _ADMIN


class IdentityAlreadyLinked(IdentityError):
    code = "IDENTITY_ALREADY_LINKED"
    status = 409
    title = "This account is already linked to another Clever account"
    default_hint = "Unlink it first (with a reason), then link it again."


class IdentityDistrictMismatch(IdentityError):
    code = "IDENTITY_DISTRICT_MISMATCH"
    status = 409
    title = "This Clever account belongs to another district"
    default_hint = "Accounts are linked only within the Clever district the LMS deployment is linked to. " + _ADMIN


class IdentityNotLinked(IdentityError):
    code = "IDENTITY_NOT_LINKED"
    status = 409
    title = "This account has no Clever link"
    default_hint = "Nothing to unlink; read the user's identities to see what is linked."


class IdentityNotFound(IdentityError):
    code = "IDENTITY_NOT_FOUND"
    status = 404
    title = "No such identity"
    default_hint = "Check the id: users are `usr_...`, LTI identities `lid_...`."


class IdentityConflictNotFound(IdentityError):
    code = "IDENTITY_CONFLICT_NOT_FOUND"
    status = 404
    title = "No such identity conflict"
    default_hint = "List conflicts with GET /api/v1/admin/identity/conflicts."


class IdentityDeploymentNotFound(IdentityError):
    code = "IDENTITY_DEPLOYMENT_NOT_FOUND"
    status = 404
    title = "No such LTI deployment"
    default_hint = "Use the gateway's deployment id (`dep_...`), not the LMS's deployment id."


class IdentityDistrictUnknown(IdentityError):
    code = "IDENTITY_DISTRICT_UNKNOWN"
    status = 404
    title = "The gateway does not know this Clever district"
    default_hint = "Connect the district through Clever Secure Sync first (`gateway clever districts sync`)."


class IdentityRegistrationNotFound(IdentityError):
    code = "IDENTITY_REGISTRATION_NOT_FOUND"
    status = 404
    title = "No such LTI registration"
    default_hint = "Use the gateway's registration id (`reg_...`)."


class IdentityReasonRequired(IdentityError):
    code = "IDENTITY_REASON_REQUIRED"
    status = 400
    title = "Say why"
    default_hint = "Every link, unlink and decision is audited with its reason: send `reason` (1 to 500 characters)."
