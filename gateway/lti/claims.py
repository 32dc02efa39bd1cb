"""LTI claim URIs, message types and what each message type requires, written once, as data.

Sources: LTI 1.3 core (https://www.imsglobal.org/spec/lti/v1p3/), Deep Linking 2.0
(https://www.imsglobal.org/spec/lti-dl/v2p0/), AGS 2.0 (https://www.imsglobal.org/spec/lti-ags/v2p0/),
NRPS 2.0 (https://www.imsglobal.org/spec/lti-nrps/v2p0/). Every other module refers to these
names; no claim URI is spelled anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

LTI_VERSION: Final = "1.3.0"

_LTI: Final = "https://purl.imsglobal.org/spec/lti/claim/"
_DL: Final = "https://purl.imsglobal.org/spec/lti-dl/claim/"
_AGS: Final = "https://purl.imsglobal.org/spec/lti-ags/claim/"
_NRPS: Final = "https://purl.imsglobal.org/spec/lti-nrps/claim/"

# -- core claims -------------------------------------------------------------------------------------
MESSAGE_TYPE: Final = _LTI + "message_type"
VERSION: Final = _LTI + "version"
DEPLOYMENT_ID: Final = _LTI + "deployment_id"
TARGET_LINK_URI: Final = _LTI + "target_link_uri"
RESOURCE_LINK: Final = _LTI + "resource_link"
ROLES: Final = _LTI + "roles"
CONTEXT: Final = _LTI + "context"
TOOL_PLATFORM: Final = _LTI + "tool_platform"
LAUNCH_PRESENTATION: Final = _LTI + "launch_presentation"
CUSTOM: Final = _LTI + "custom"
LIS: Final = _LTI + "lis"
ROLE_SCOPE_MENTOR: Final = _LTI + "role_scope_mentor"
FOR_USER: Final = _LTI + "for_user"
LTI1P1: Final = _LTI + "lti1p1"

# -- services ----------------------------------------------------------------------------------------
AGS_ENDPOINT: Final = _AGS + "endpoint"
NRPS_SERVICE: Final = _NRPS + "namesroleservice"

# -- deep linking ------------------------------------------------------------------------------------
DL_SETTINGS: Final = _DL + "deep_linking_settings"
DL_CONTENT_ITEMS: Final = _DL + "content_items"
DL_DATA: Final = _DL + "data"
DL_MSG: Final = _DL + "msg"
DL_LOG: Final = _DL + "log"
DL_ERRORMSG: Final = _DL + "errormsg"
DL_ERRORLOG: Final = _DL + "errorlog"

# -- dynamic registration (lti-dr v1p0): configuration members, not launch claims ----------------------
TOOL_CONFIGURATION: Final = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION: Final = "https://purl.imsglobal.org/spec/lti-platform-configuration"

# -- message types -----------------------------------------------------------------------------------
RESOURCE_LINK_REQUEST: Final = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST: Final = "LtiDeepLinkingRequest"
DEEP_LINKING_RESPONSE: Final = "LtiDeepLinkingResponse"
SUBMISSION_REVIEW_REQUEST: Final = "LtiSubmissionReviewRequest"
DATA_PRIVACY_REQUEST: Final = "DataPrivacyLaunchRequest"

# -- AGS scopes --------------------------------------------------------------------------------------
_AGS_SCOPE: Final = "https://purl.imsglobal.org/spec/lti-ags/scope/"
AGS_SCOPE_LINEITEM: Final = _AGS_SCOPE + "lineitem"
AGS_SCOPE_LINEITEM_READONLY: Final = _AGS_SCOPE + "lineitem.readonly"
AGS_SCOPE_RESULT_READONLY: Final = _AGS_SCOPE + "result.readonly"
AGS_SCOPE_SCORE: Final = _AGS_SCOPE + "score"
AGS_SCOPES: Final = (AGS_SCOPE_LINEITEM, AGS_SCOPE_LINEITEM_READONLY, AGS_SCOPE_RESULT_READONLY, AGS_SCOPE_SCORE)
NRPS_SCOPE: Final = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"

# -- roles -------------------------------------------------------------------------------------------
ROLE_VOCAB: Final = "http://purl.imsglobal.org/vocab/lis/v2/"  # roles and context types
MEMBERSHIP_ROLE: Final = ROLE_VOCAB + "membership#"
INSTITUTION_ROLE: Final = ROLE_VOCAB + "institution/person#"
SYSTEM_ROLE: Final = ROLE_VOCAB + "system/person#"

# -- deep-linking content item types -----------------------------------------------------------------
CONTENT_ITEM_TYPES: Final = ("ltiResourceLink", "link", "html", "file", "image")


# -- what each message type requires -----------------------------------------------------------------


@dataclass(frozen=True)
class Required:
    """A claim a message must carry. ``fields`` are members its object must carry too.

    ``kind`` is the JSON shape: ``str`` (non-empty string), ``list`` (array of strings, may be
    ``[""]``: certification treats an empty role as valid), or ``object``.
    """

    claim: str
    kind: str
    fields: tuple[str, ...] = ()


# Claims every message needs before its type is even known (certification cases 3, 4, 7, 9, 11, 12).
COMMON: Final[tuple[Required, ...]] = (
    Required(VERSION, "str"),
    Required(MESSAGE_TYPE, "str"),
    Required(DEPLOYMENT_ID, "str"),
    Required("sub", "str"),
    Required(ROLES, "list"),
)

# Per message type, on top of COMMON. LTI 1.3 Core makes ``context`` optional for a resource link launch
# (1EdTech LTI Advantage certification: "Instructor/Student With Email No Context" are valid launches): such a
# launch is accepted and simply has no course. When ``context`` is present its ``id`` is required (OPTIONAL_FIELDS).
BY_MESSAGE_TYPE: Final[dict[str, tuple[Required, ...]]] = {
    RESOURCE_LINK_REQUEST: (
        Required(TARGET_LINK_URI, "str"),
        Required(RESOURCE_LINK, "object", ("id",)),
    ),
    DEEP_LINKING_REQUEST: (
        Required(TARGET_LINK_URI, "str"),
        Required(
            DL_SETTINGS, "object", ("deep_link_return_url", "accept_types", "accept_presentation_document_targets")
        ),
    ),
    SUBMISSION_REVIEW_REQUEST: (
        Required(TARGET_LINK_URI, "str"),
        Required(RESOURCE_LINK, "object", ("id",)),
        Required(CONTEXT, "object", ("id",)),
        Required(FOR_USER, "object", ("user_id",)),
        Required(AGS_ENDPOINT, "object", ("lineitem",)),
    ),
    DATA_PRIVACY_REQUEST: (Required(FOR_USER, "object", ("user_id",)),),
}

SUPPORTED_MESSAGE_TYPES: Final = tuple(BY_MESSAGE_TYPE)

# Members an optional claim must carry when the claim is present (LTI 1.3 Core §5.4.1: ``context.id`` is required).
OPTIONAL_FIELDS: Final[tuple[tuple[str, str], ...]] = ((CONTEXT, "id"),)
