"""The launch messages the simulated platform signs: every message type, and the certification-valid variants.

The 23 valid variants mirror the 1EdTech certification launches by name and intent: the 21 valid
cases of the suite and its two launches without a course ("... With Email No Context"); the payloads are our own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

from gateway.lti import claims as c
from sandbox.lms.platform import STUDENT, TEACHER, LaunchIntent, Lti1p1Claim, SandboxPlatform

UNKNOWN_ROLE = c.ROLE_VOCAB + "unknown/unknown#Unknown"
PII = ("name", "given_name", "family_name", "email")


def _user_claims(intent: LaunchIntent) -> dict[str, Any]:
    user = intent.user
    return {
        "sub": user.sub,
        "name": user.name,
        "given_name": user.given_name,
        "family_name": user.family_name,
        "email": user.email,
        "locale": "en",
        c.ROLES: list(user.roles),
    }


def _services(platform: SandboxPlatform, intent: LaunchIntent) -> dict[str, Any]:
    claims: dict[str, Any] = {}
    if intent.ags:
        claims[c.AGS_ENDPOINT] = {
            "scope": [c.AGS_SCOPE_LINEITEM, c.AGS_SCOPE_RESULT_READONLY, c.AGS_SCOPE_SCORE],
            "lineitems": platform.lineitems_url,
        }
    if intent.nrps:
        claims[c.NRPS_SERVICE] = {"context_memberships_url": platform.memberships_url, "service_versions": ["2.0"]}
    return claims


def build_claims(platform: SandboxPlatform, intent: LaunchIntent, nonce: str) -> dict[str, Any]:
    now = int(time.time())
    course = platform.course
    claims: dict[str, Any] = {
        "iss": platform.issuer,
        "aud": platform.client_id,
        "azp": platform.client_id,
        "iat": now,
        "exp": now + 300,
        "nonce": nonce,
        c.VERSION: c.LTI_VERSION,
        c.MESSAGE_TYPE: intent.message_type,
        c.DEPLOYMENT_ID: intent.deployment_id or platform.deployment_id,
        c.TARGET_LINK_URI: platform.tool_redirect_uris[0],
        c.CONTEXT: {"id": course.id, "label": course.label, "title": course.title,
                    "type": [c.ROLE_VOCAB + "course#CourseOffering"]},
        c.TOOL_PLATFORM: {"guid": "sandbox-lms-guid", "name": "Sandbox LMS", "product_family_code": "sandbox",
                          "version": "1.0"},
        c.LAUNCH_PRESENTATION: {"document_target": "iframe", "return_url": platform.base_url + "/", "locale": "en"},
        c.CUSTOM: dict(intent.custom),
        **_user_claims(intent),
    }
    if intent.message_type in (c.RESOURCE_LINK_REQUEST, c.SUBMISSION_REVIEW_REQUEST):
        claims[c.RESOURCE_LINK] = {"id": intent.resource_link_id, "title": "Fractions practice"}
        claims.update(_services(platform, intent))
    if intent.message_type == c.DEEP_LINKING_REQUEST:
        claims[c.DL_SETTINGS] = {
            "deep_link_return_url": platform.deep_link_return_url,
            "accept_types": ["ltiResourceLink", "link", "html", "file", "image"],
            "accept_presentation_document_targets": ["iframe", "window"],
            "accept_media_types": "image/*,text/html,application/json",
            "accept_multiple": True,
            "accept_lineitem": True,
            "auto_create": True,
            "title": "Pick an activity",
            "data": "sandbox-dl-" + nonce[:8],
        }
    if intent.message_type == c.SUBMISSION_REVIEW_REQUEST:
        claims[c.AGS_ENDPOINT] = {**claims.get(c.AGS_ENDPOINT, {}), "lineitem": platform.lineitems_url + "/1"}
        claims[c.FOR_USER] = {"user_id": STUDENT.sub, "name": STUDENT.name, "roles": list(STUDENT.roles)}
    if intent.message_type == c.DATA_PRIVACY_REQUEST:
        claims.pop(c.CONTEXT, None)
        claims[c.FOR_USER] = {"user_id": intent.user.sub}
    if intent.variant:
        VALID_VARIANTS[intent.variant][1](claims)
    for name in intent.drop_claims:
        claims.pop(name, None)
    claims.update(intent.extra_claims)
    if intent.lti1p1 is not None:
        claims[c.LTI1P1] = migration_claim(intent.lti1p1, claims)
    return claims


def migration_claim(spec: Lti1p1Claim, claims: dict[str, Any]) -> dict[str, Any]:
    """The ``lti1p1`` claim (LTI 1.3 Core, LTI 1.1 migration claim), signed over the token's own values.

    Written here from the spec, not with the gateway's code, so a mistake there cannot hide behind the same
    mistake here: base64(HMAC-SHA256(secret, key & deployment_id & iss & client_id & exp & nonce)).
    """
    claim: dict[str, Any] = {"oauth_consumer_key": spec.consumer_key}
    if spec.user_id is not None:
        claim["user_id"] = spec.user_id
    if spec.secret is not None:
        aud = claims["aud"]
        client_id = aud if isinstance(aud, str) else claims.get("azp", aud[0])
        base = "&".join([spec.consumer_key, str(claims[c.DEPLOYMENT_ID]), str(claims["iss"]), str(client_id),
                         str(claims["exp"]), str(claims["nonce"])])
        mac = hmac.new(spec.secret.encode(), base.encode(), hashlib.sha256).digest()
        claim["oauth_consumer_key_sign"] = base64.b64encode(mac).decode()
    return claim


# -- certification-valid variants (1EdTech LTI Advantage) ---------------------------------------------


def _drop(*names: str) -> Callable[[dict[str, Any]], None]:
    def apply(claims: dict[str, Any]) -> None:
        for name in names:
            claims.pop(name, None)

    return apply


def _roles(*roles: str) -> Callable[[dict[str, Any]], None]:
    def apply(claims: dict[str, Any]) -> None:
        claims[c.ROLES] = list(roles)

    return apply


def _only_resource_link(claims: dict[str, Any]) -> None:
    keep = {"iss", "aud", "azp", "iat", "exp", "nonce", "sub", c.VERSION, c.MESSAGE_TYPE, c.DEPLOYMENT_ID,
            c.TARGET_LINK_URI, c.RESOURCE_LINK, c.CONTEXT, c.ROLES}
    for name in list(claims):
        if name not in keep:
            del claims[name]
    claims[c.CONTEXT] = {"id": claims[c.CONTEXT]["id"]}


def _passed_lti_link(claims: dict[str, Any]) -> None:
    claims[c.RESOURCE_LINK] = {"id": "link-from-deep-linking", "title": "Picked: fractions quiz"}
    claims[c.CUSTOM] = {"activity": "quiz-42"}


def _email_no_context(claims: dict[str, Any]) -> None:
    """Certification "Launch Instructor/Student With Email No Context": no course, so no course services either."""
    for name in ("name", "given_name", "family_name", c.CONTEXT, c.AGS_ENDPOINT, c.NRPS_SERVICE):
        claims.pop(name, None)


def _nothing(claims: dict[str, Any]) -> None:
    return None


def _coupled_line_item(claims: dict[str, Any]) -> None:
    endpoint = claims.get(c.AGS_ENDPOINT)
    if isinstance(endpoint, dict):
        endpoint["lineitem"] = endpoint["lineitems"] + "/1"


_MEMBERSHIP = c.MEMBERSHIP_ROLE
# name -> (launching user and message type, change to the claims)
VALID_VARIANTS: dict[str, tuple[tuple[str, str], Callable[[dict[str, Any]], None]]] = {
    "instructor": (("teacher", c.RESOURCE_LINK_REQUEST), _nothing),
    "student": (("student", c.RESOURCE_LINK_REQUEST), _nothing),
    "instructor_no_pii": (("teacher", c.RESOURCE_LINK_REQUEST), _drop(*PII)),
    "student_no_pii": (("student", c.RESOURCE_LINK_REQUEST), _drop(*PII)),
    "instructor_only_email": (("teacher", c.RESOURCE_LINK_REQUEST), _drop("name", "given_name", "family_name")),
    "student_only_email": (("student", c.RESOURCE_LINK_REQUEST), _drop("name", "given_name", "family_name")),
    "instructor_only_names": (("teacher", c.RESOURCE_LINK_REQUEST), _drop("email")),
    "student_only_names": (("student", c.RESOURCE_LINK_REQUEST), _drop("email")),
    "student_only_resource_link": (("student", c.RESOURCE_LINK_REQUEST), _only_resource_link),
    "instructor_no_role": (("teacher", c.RESOURCE_LINK_REQUEST), _roles("")),
    "student_no_role": (("student", c.RESOURCE_LINK_REQUEST), _roles("")),
    "instructor_multiple_roles": (("teacher", c.RESOURCE_LINK_REQUEST), _roles(
        _MEMBERSHIP + "Instructor", _MEMBERSHIP + "Mentor", c.INSTITUTION_ROLE + "Faculty",
        c.SYSTEM_ROLE + "User")),
    "student_multiple_roles": (("student", c.RESOURCE_LINK_REQUEST), _roles(
        _MEMBERSHIP + "Learner", _MEMBERSHIP + "Member", c.INSTITUTION_ROLE + "Student")),
    "instructor_short_role": (("teacher", c.RESOURCE_LINK_REQUEST), _roles("Instructor")),
    "student_short_role": (("student", c.RESOURCE_LINK_REQUEST), _roles("Learner")),
    "instructor_unknown_role": (("teacher", c.RESOURCE_LINK_REQUEST), _roles(UNKNOWN_ROLE)),
    "student_unknown_role": (("student", c.RESOURCE_LINK_REQUEST), _roles(UNKNOWN_ROLE)),
    "deep_linking_passed_lti_link": (("teacher", c.RESOURCE_LINK_REQUEST), _passed_lti_link),
    "deep_linking_request_payload": (("teacher", c.DEEP_LINKING_REQUEST), _nothing),
    "ags_core_launch": (("student", c.RESOURCE_LINK_REQUEST), _coupled_line_item),
    "nrps_core_launch": (("teacher", c.RESOURCE_LINK_REQUEST), _drop(c.AGS_ENDPOINT)),
    # LTI 1.3 Core makes the context optional; the conformance guide lists these among the valid launches.
    "instructor_email_no_context": (("teacher", c.RESOURCE_LINK_REQUEST), _email_no_context),
    "student_email_no_context": (("student", c.RESOURCE_LINK_REQUEST), _email_no_context),
}


def variant_intent(name: str, **overrides: Any) -> LaunchIntent:
    (who, message_type), _ = VALID_VARIANTS[name]
    return LaunchIntent(user=TEACHER if who == "teacher" else STUDENT, message_type=message_type, variant=name,
                        **overrides)
