"""What a new registration needs, with and without a preset, checked before anything is stored."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.errors import ValidationFailed
from gateway.lti.management import resolve_new_registration

MANUAL = {"client_id": "c1", "issuer": "https://lms.example.edu", "auth_login_url": "https://lms.example.edu/a",
          "auth_token_url": "https://lms.example.edu/t", "jwks_url": "https://lms.example.edu/k"}


def test_a_preset_fills_everything_but_the_client_id() -> None:
    values = resolve_new_registration({"preset": "canvas", "client_id": "10000000000042"}, require_https=True)
    assert values["issuer"] == "https://canvas.instructure.com" and values["lms"] == "canvas"
    assert values["deployment_ids"] == ()


def test_an_explicit_lms_kind_and_endpoint_win_over_the_preset() -> None:
    values = resolve_new_registration(
        {"preset": "moodle", "site_url": "https://m.edu", "client_id": "x", "lms": "other",
         "jwks_url": "https://keys.m.edu/jwks"}, require_https=True)
    assert values["lms"] == "other" and values["jwks_url"] == "https://keys.m.edu/jwks"
    assert values["auth_login_url"] == "https://m.edu/mod/lti/auth.php"


def _fields(errors: ValidationFailed) -> set[str]:
    return {e["field"] for e in errors.extra["errors"]}


@pytest.mark.parametrize(
    ("fields", "https", "bad"),
    [
        ({**MANUAL, "client_id": ""}, True, {"client_id"}),
        ({"client_id": "c1"}, True, {"issuer", "auth_login_url", "auth_token_url", "jwks_url"}),
        ({**MANUAL, "jwks_url": "http://lms.example.edu/k"}, True, {"jwks_url"}),
        ({**MANUAL, "auth_login_url": "/relative"}, False, {"auth_login_url"}),
        ({**MANUAL, "lms": "sakai"}, True, {"lms"}),
        ({**MANUAL, "deployment_ids": ["1", "1"]}, True, {"deployment_ids"}),
        ({**MANUAL, "deployment_ids": [""]}, True, {"deployment_ids"}),
        ({**MANUAL, "options": {"k": None}}, True, {"options"}),
        ({**MANUAL, "options": []}, True, {"options"}),
        ({**MANUAL, "site_url": "https://x.edu"}, True, {"site_url"}),
        ({**MANUAL, "secret": "x"}, True, {"secret"}),
        ({"preset": "moodle", "client_id": "c1"}, True, {"site_url"}),
        ({"preset": "sakai", "client_id": "c1"}, True, {"preset"}),
        ({**MANUAL, "auto_activate_deployments": "yes"}, True, {"auto_activate_deployments"}),
    ],
)
def test_refusals_name_every_field(fields: dict[str, Any], https: bool, bad: set[str]) -> None:
    with pytest.raises(ValidationFailed) as refused:
        resolve_new_registration(fields, require_https=https)
    assert _fields(refused.value) == bad
