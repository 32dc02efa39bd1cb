"""The 23 certification-valid launches (1EdTech LTI Advantage, with the two "No Context" ones) and every
message type are accepted and handed off."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.lti import claims as c
from sandbox.lms import LaunchIntent
from sandbox.lms.messages import VALID_VARIANTS, variant_intent
from sandbox.lms.platform import STUDENT, TEACHER
from tests.support.lti_flow import launch
from tests.support.lti_sandbox import LtiWorld, stored

# One worker runs this module, so its module-scoped world (servers, keys, launches) is built once.
pytestmark = pytest.mark.xdist_group(__name__)


def _record(world: LtiWorld, intent: LaunchIntent) -> dict[str, Any]:
    result = launch(world.browser(), world.platform.prepare(intent))
    assert result.code, f"{result.final.status_code}: {result.error_code}"
    response = world.redeem(result.code)
    assert response.status_code == 200
    record: dict[str, Any] = response.json()
    return record


def test_there_are_23_certification_valid_cases() -> None:
    assert len(VALID_VARIANTS) == 23


@pytest.mark.parametrize("variant", sorted(VALID_VARIANTS))
def test_certification_valid_launch_is_accepted(shared_world: LtiWorld, variant: str) -> None:
    before = stored(shared_world.gateway)
    record = _record(shared_world, variant_intent(variant))
    after = stored(shared_world.gateway)
    assert after["launches"] == before["launches"] + 1
    (who, message_type), _ = VALID_VARIANTS[variant]
    assert record["message_type"] == message_type
    assert record["lti"]["sub"] == (TEACHER.sub if who == "teacher" else STUDENT.sub)
    user = record["user"]
    if "no_pii" in variant or variant == "student_only_resource_link":
        assert (user["name"], user["email"], user["given_name"], user["family_name"]) == (None, None, None, None)
    if "only_email" in variant:
        assert user["email"] and user["name"] is None
    if "only_names" in variant:
        assert user["name"] and user["email"] is None
    roles = record["roles"]
    if "no_role" in variant:
        assert roles["full"] == [] and roles["simple"] == []
    if "short_role" in variant:
        assert roles["full"] == [c.MEMBERSHIP_ROLE + ("Instructor" if who == "teacher" else "Learner")]
        assert roles["instructor" if who == "teacher" else "learner"] is True
    if "unknown_role" in variant:
        assert roles["simple"] == ["Unknown"] and not roles["instructor"] and not roles["learner"]
    if "multiple_roles" in variant:
        assert len(roles["full"]) >= 3
    if variant == "deep_linking_request_payload":
        settings = record["deep_linking"]
        assert set(settings["accept_types"]) >= {"link", "file", "html", "ltiResourceLink"}
        assert settings["accept_media_types"] == "image/*,text/html,application/json"
        assert settings["accept_multiple"] is True and settings["auto_create"] is True
        assert settings["response_url"] == f"/api/v1/launches/{record['id']}/deep-link-response"
        assert "deep_link_return_url" not in settings and "data" not in settings
    if variant == "ags_core_launch":
        assert record["writeback"]["ags"]["has_line_item"] is True
    if variant == "nrps_core_launch":
        assert record["writeback"]["ags"] is None and record["writeback"]["nrps"] is True
    if variant.endswith("no_context"):
        assert after["lti_contexts"] == before["lti_contexts"]  # no course is made up
        assert record["context"] is None and record["resource_link"] is None and user["email"]
        writeback = record["writeback"]
        assert (writeback["context_id"], writeback["ags"], writeback["nrps"]) == (None, None, False)
        assert [r["code"] for r in writeback["reasons"]] == ["LTI_NO_CONTEXT"]
    else:
        assert record["writeback"]["reasons"] == []


@pytest.mark.parametrize(
    "message_type", [c.RESOURCE_LINK_REQUEST, c.DEEP_LINKING_REQUEST, c.SUBMISSION_REVIEW_REQUEST,
                     c.DATA_PRIVACY_REQUEST],
)
def test_every_message_type_is_handed_off(shared_world: LtiWorld, message_type: str) -> None:
    record = _record(shared_world, LaunchIntent(message_type=message_type))
    assert record["message_type"] == message_type
    if message_type == c.SUBMISSION_REVIEW_REQUEST:
        assert record["for_user"]["sub"] == STUDENT.sub and record["for_user"]["roles"]["learner"] is True
    if message_type == c.DATA_PRIVACY_REQUEST:
        assert record["context"] is None and record["resource_link"] is None
        assert record["for_user"]["sub"] == TEACHER.sub
    if message_type == c.DEEP_LINKING_REQUEST:
        assert record["resource_link"] is None and record["deep_linking"] is not None


def test_submission_review_names_a_known_student(shared_world: LtiWorld) -> None:
    student = _record(shared_world, LaunchIntent(user=STUDENT))
    review = _record(shared_world, LaunchIntent(message_type=c.SUBMISSION_REVIEW_REQUEST))
    assert review["for_user"]["user_id"] == student["user"]["id"]
