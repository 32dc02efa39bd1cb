"""A complete LTI launch record (the ``LtiLaunch`` schema of openapi.yaml) for tests that need one without a launch."""

from __future__ import annotations

from typing import Any


def sample_lti_record(user_id: str = "usr_1") -> dict[str, Any]:
    """The body ``HandoffService.issue("lti", ...)`` takes; it adds ``id``, ``kind`` and ``created_at``."""
    return {
        "message_type": "LtiResourceLinkRequest",
        "user": {"id": user_id, "name": None, "given_name": None, "family_name": None, "email": None, "locale": None},
        "lti": {
            "issuer": "https://lms.example.com", "sub": "sub-1", "client_id": "client-1", "deployment_id": "dep-1",
            "registration": "reg_1", "deployment": "dep_1", "lms": "other", "platform": None, "lti1p1": None,
        },
        "roles": {"full": [], "simple": [], "instructor": False, "learner": False, "teaching_assistant": False,
                  "mentor": False, "staff": False},
        "context": None,
        "resource_link": None,
        "custom": {},
        "clever": None,
        "clever_match": {"result": "unmatched", "clever_user_id": None, "district_id": None, "linked_by": None,
                         "conflict": False},
        "writeback": {"context_id": None, "resource_link_id": None, "ags": None, "nrps": False, "reasons": []},
        "deep_linking": None,
        "launch_presentation": None,
        "for_user": None,
        "target_link_uri": None,
    }
