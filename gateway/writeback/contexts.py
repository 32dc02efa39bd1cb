"""Contexts: where assignments and grades go, and what the vendor can do there (and, if not, why).

Context ids: an LTI course is ``ctx_...`` (the launch record's ``context.id``); a Clever section is
``clever:<Clever section id>``. The route follows the context: LTI courses go over AGS (the platform
granted AGS scopes in a launch there), Clever sections over LMS Connect (the district's ``lms_state``
is ``success`` and the section is synced in the LMS, as Clever's docs require). Capabilities are read from
what the launches and the roster sync stored, so answering costs no call to the LMS or Clever.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy.orm import Session

from gateway.lti import claims as c
from gateway.store.models.clever import CleverDistrictRow, CleverSectionRow
from gateway.store.models.lti import LtiContextRow, LtiRegistrationRow
from gateway.store.repositories.assignments_contexts import WritebackLookup
from gateway.writeback.refusals import CapabilityUnavailable, ContextNotFound

CLEVER_PREFIX: Final = "clever:"
LTI_PREFIX: Final = "ctx_"
AGS: Final = "ags"
CLEVER: Final = "clever"
CAPABILITIES: Final = ("create_assignments", "write_grades", "deep_linking", "read_roster")


@dataclass(frozen=True)
class Reason:
    code: str
    message: str

    def document(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class Capability:
    available: bool
    reasons: tuple[Reason, ...] = ()
    note: str | None = None

    def document(self) -> dict[str, Any]:
        return {"available": self.available, "reasons": [r.document() for r in self.reasons], "note": self.note}


def _can(note: str | None = None) -> Capability:
    return Capability(True, (), note)


def _cannot(*reasons: Reason) -> Capability:
    return Capability(False, tuple(reasons))


# LMS differences worth knowing before writing (Clever's LMS Connect docs, Canvas's Score API).
CLEVER_NOTES: Final[dict[str, tuple[Reason, ...]]] = {
    "canvas": (
        Reason("CANVAS_IGNORES_STATE", "Canvas ignores `state` sent through Clever and sets it itself."),
        Reason("CANVAS_SUBMISSION_TYPES", "Canvas shows nothing under “Submitting” until submission types are set."),
    ),
    "schoology": (
        Reason("SCHOOLOGY_STUDENT_MUST_LAUNCH", "Schoology takes a grade only after the student has opened the "
               "app's LTI link once since LMS Connect was enabled; before that Clever answers 500."),
        Reason("SCHOOLOGY_LINKS_AS_TEXT", "Schoology takes links only as text attachments, not as `link`."),
    ),
    "google_classroom": (
        Reason("GOOGLE_CLASSROOM_NO_SUBMISSION_ID", "Google Classroom gives no submission id; submissions are "
               "known by section, assignment and student."),
    ),
}
LTI_NOTES: Final[dict[str, tuple[Reason, ...]]] = {
    "canvas": (Reason("CANVAS_FULLY_GRADED", "Canvas records `score_given` only with grading progress "
                      "`FullyGraded` (or `PendingManual`, which asks a teacher to grade)."),),
    "brightspace": (Reason("BRIGHTSPACE_CAPS_SCORES", "Brightspace caps scores at the maximum unless the grade "
                           "item allows exceeding it, and keeps them only for roles that can be graded."),),
    "blackboard": (Reason("BLACKBOARD_COMMENT_CLEARED", "Blackboard clears an existing comment when a score "
                          "arrives without one."),),
}


@dataclass(frozen=True)
class ResolvedContext:
    id: str
    kind: str  # lti | clever_section
    backend: str  # ags | clever
    title: str | None
    label: str | None
    capabilities: dict[str, Capability]
    notes: tuple[Reason, ...] = ()
    lti_context_ref: str | None = None
    registration_id: str | None = None
    lms: str | None = None
    section_id: str | None = None
    district_id: str | None = None
    lms_state: str | None = None
    section_synced: bool | None = None
    manages_line_items: bool = False  # AGS: the gateway may create line items (else only adopt a placement's)
    details: dict[str, Any] = field(default_factory=dict)

    def require(self, capability: str) -> None:
        found = self.capabilities[capability]
        if not found.available:
            words = "; ".join(r.message for r in found.reasons)
            raise CapabilityUnavailable(
                f"This context cannot {capability.replace('_', ' ')}: {words}",
                extra={"capability": capability, "reasons": [r.document() for r in found.reasons]},
            )

    def document(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "backend": self.backend,
            "title": self.title,
            "label": self.label,
            "lms": self.lms,
            "capabilities": {name: self.capabilities[name].document() for name in CAPABILITIES},
            "notes": [n.document() for n in self.notes],
            "lti": self.details.get("lti"),
            "clever": self.details.get("clever"),
        }


def resolve(session: Session, context_id: str) -> ResolvedContext:
    """The context named by a vendor-facing id, or :class:`ContextNotFound`."""
    lookup = WritebackLookup(session)
    if context_id.startswith(LTI_PREFIX):
        row = lookup.lti_context(context_id)
        if row is not None:
            registration = lookup.registration(row.registration_id)
            deployment = lookup.deployment(row.deployment_ref)
            assert registration is not None and deployment is not None  # the foreign keys guarantee them
            return _lti(row, registration, deployment.status, lookup.coupled_links(row.id))
    elif context_id.startswith(CLEVER_PREFIX):
        section = lookup.clever_section(context_id.removeprefix(CLEVER_PREFIX))
        if section is not None:
            district = lookup.clever_district(section.district_id)
            if district is not None:
                return _clever(context_id, section, district)
    raise ContextNotFound(f"There is no context {context_id[:120]!r}.")


# -- LTI ---------------------------------------------------------------------------------------------


def _lti(row: LtiContextRow, registration: LtiRegistrationRow, deployment_status: str,
         coupled: int) -> ResolvedContext:
    scopes = set(row.ags_scopes or [])
    disabled = registration.status != "active" or deployment_status != "active"
    off = (Reason("REGISTRATION_DISABLED", "The platform registration is disabled in the gateway.")
           if registration.status != "active" else
           Reason("DEPLOYMENT_DISABLED", f"The course's LTI deployment is {deployment_status}, not active."))
    if disabled:
        create, grades = _cannot(off), _cannot(off)
    else:
        create, grades = _lti_assignments(row, scopes, coupled), _lti_grades(scopes, row, coupled)
    roster = _cannot(off) if disabled else _lti_roster(row, registration)
    deep_linking = (
        _cannot(off) if disabled else
        _can("Deep linking happens inside a deep-linking launch: the teacher adds content from the LMS, and the "
             "launch record's `deep_linking` says what the platform accepts.")
    )
    return ResolvedContext(
        id=row.id, kind="lti", backend=AGS, title=row.title, label=row.label,
        capabilities={"create_assignments": create, "write_grades": grades, "deep_linking": deep_linking,
                      "read_roster": roster},
        notes=LTI_NOTES.get(registration.lms, ()),
        lti_context_ref=row.id, registration_id=registration.id, lms=registration.lms,
        manages_line_items=c.AGS_SCOPE_LINEITEM in scopes and bool(row.ags_lineitems_url),
        details={"lti": {"registration": registration.id, "lms_id": row.context_id,
                         "ags_scopes": sorted(scopes), "coupled_line_items": coupled}},
    )


def _lti_roster(row: LtiContextRow, registration: LtiRegistrationRow) -> Capability:
    """Names and Roles needs both: a launch here that offered it (its memberships URL), and the scope granted to
    the registration (when the registration's scopes are known: dynamic registration's answer, or an admin)."""
    reasons: list[Reason] = []
    if not row.nrps_url:
        reasons.append(Reason("NRPS_NOT_GRANTED", "No launch in this course offered the Names and Roles service "
                              "(the LMS administrator must grant the tool `contextmembership.readonly`)."))
    scopes = registration.granted_scopes
    if scopes is not None and c.NRPS_SCOPE not in scopes:
        reasons.append(Reason("NRPS_SCOPE_NOT_GRANTED", "The platform did not grant this registration the Names "
                              "and Roles scope (`contextmembership.readonly`); its granted scopes are "
                              f"{', '.join(sorted(scopes)) or 'none'}."))
    if reasons:
        return _cannot(*reasons)
    return _can(f"GET /api/v1/contexts/{row.id}/members (scope `roster`): the LMS's roster over Names and Roles; "
                "members read there can be graded without having launched.")


def _lti_assignments(row: LtiContextRow, scopes: set[str], coupled: int) -> Capability:
    if not scopes:
        return _cannot(Reason("AGS_NOT_GRANTED", "No launch in this course granted an AGS scope (Assignment and "
                              "Grade Services); the LMS administrator must enable them for the tool."))
    if c.AGS_SCOPE_LINEITEM in scopes and row.ags_lineitems_url:
        return _can()
    if c.AGS_SCOPE_SCORE in scopes and coupled:
        return _can("Only for a `resource_link_id` whose placement has its own line item: the platform did not "
                    "grant the line-item scope, so the gateway cannot make new line items.")
    if c.AGS_SCOPE_LINEITEM not in scopes:
        return _cannot(Reason("AGS_LINEITEM_SCOPE_MISSING", "The platform granted no line-item scope (`lineitem`), "
                              "and no placement here has a line item of its own."))
    return _cannot(Reason("AGS_NO_LINEITEMS_URL", "The platform sent no line items URL in its launches here."))


def _lti_grades(scopes: set[str], row: LtiContextRow, coupled: int) -> Capability:
    if not scopes:
        return _cannot(Reason("AGS_NOT_GRANTED", "No launch in this course granted an AGS scope (Assignment and "
                              "Grade Services); the LMS administrator must enable them for the tool."))
    if c.AGS_SCOPE_SCORE not in scopes:
        return _cannot(Reason("AGS_SCORE_SCOPE_MISSING", "The platform did not grant the score scope (`score`)."))
    if not (c.AGS_SCOPE_LINEITEM in scopes and row.ags_lineitems_url) and not coupled:
        return _cannot(Reason("AGS_NO_LINE_ITEM", "There is no line item to grade: no line-item scope and no "
                              "placement with a line item of its own."))
    return _can()


# -- Clever --------------------------------------------------------------------------------------------


def clever_readiness(district: CleverDistrictRow, section: CleverSectionRow) -> tuple[Reason, ...]:
    """Why LMS Connect writes cannot go to this section now (empty: they can)."""
    reasons: list[Reason] = []
    if district.status != "connected" or not district.token_encrypted:
        reasons.append(Reason("CLEVER_DISTRICT_DISCONNECTED", "The district has disconnected the app in Clever."))
    if district.lms_state != "success":
        reasons.append(Reason("CLEVER_LMS_NOT_READY", f"The district's LMS Connect state is "
                              f"`{district.lms_state or 'unknown'}`, not `success`: its LMS is not connected "
                              "to Clever or its users are not matched yet."))
    if section.archived_at is not None:
        reasons.append(Reason("CLEVER_SECTION_ARCHIVED", "Clever no longer shares this section."))
    if section.lms_synced is not True:
        reasons.append(Reason("CLEVER_SECTION_NOT_SYNCED", "Clever has not synced this section with the LMS "
                              "(`lms_status.synced_in_lms` is false)."))
    return tuple(reasons)


def _clever(context_id: str, section: CleverSectionRow, district: CleverDistrictRow) -> ResolvedContext:
    reasons = clever_readiness(district, section)
    writes = _cannot(*reasons) if reasons else _can()
    connected = district.status == "connected"
    roster = (
        _can(f"GET /api/v1/clever/sections/{section.id}/users (scope `roster`).") if connected else
        _cannot(Reason("CLEVER_DISTRICT_DISCONNECTED", "The district has disconnected the app in Clever."))
    )
    deep_linking = _cannot(Reason("NOT_LTI", "Deep linking belongs to LTI launches; in a Clever section, create "
                                  "assignments through LMS Connect instead."))
    return ResolvedContext(
        id=context_id, kind="clever_section", backend=CLEVER, title=section.name, label=section.subject,
        capabilities={"create_assignments": writes, "write_grades": writes, "deep_linking": deep_linking,
                      "read_roster": roster},
        notes=CLEVER_NOTES.get(district.lms_type or "", ()),
        lms=district.lms_type, section_id=section.id, district_id=district.id, lms_state=district.lms_state,
        section_synced=section.lms_synced,
        details={"clever": {"district_id": district.id, "section_id": section.id, "lms_type": district.lms_type,
                            "lms_state": district.lms_state, "synced_in_lms": section.lms_synced is True}},
    )
