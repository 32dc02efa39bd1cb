"""Matching rules set through the LTI registration API and CLI (``options``) are type-checked like the identity
rules API: a string where a switch belongs is refused, never read as "absent" (which would leave SIS matching on)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway.cli import main
from tests.integration.identity.world import IdentityWorld


def _registration_url(world: IdentityWorld) -> str:
    return f"{world.url}/api/v1/admin/lti/registrations/{world.lti.registration.id}"


def _rules(world: IdentityWorld) -> dict[str, Any]:
    response = world.admin().get(f"{world.url}/api/v1/admin/identity/registrations/{world.lti.registration.id}/rules",
                                 timeout=10)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(("options", "field"), [
    ({"sis_id_matching": "false"}, "options.sis_id_matching"),
    ({"email_matching": 1}, "options.email_matching"),
    ({"clever_id_param": ""}, "options.clever_id_param"),
    ({"sis_id_param": ["sis_id"]}, "options.sis_id_param"),
    # Issue 14: a key nothing reads was stored silently (a typo of a rule then meant its default).
    ({"nonsense_key": 1}, "options.nonsense_key"),
    ({"match_email": True}, "options.match_email"),
])
def test_a_wrongly_typed_rule_is_refused_by_the_registration_api(world: IdentityWorld, options: dict[str, object],
                                                                 field: str) -> None:
    api = world.admin()
    before = api.get(_registration_url(world), timeout=10).json()
    refused = api.patch(_registration_url(world), json={"options": options}, timeout=10)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "VALIDATION_FAILED"
    assert [e["field"] for e in refused.json()["errors"]] == [field]
    assert api.get(_registration_url(world), timeout=10).json() == before  # nothing stored
    assert not [a for a in world.audit("lti.registration") if a.action == "lti.registration.update"]


def test_well_typed_rules_pass_and_reach_matching(world: IdentityWorld) -> None:
    api = world.admin()
    patched = api.patch(_registration_url(world), timeout=10,
                        json={"options": {"sis_id_matching": False, "sis_id_param": "sis_id"}})
    assert patched.status_code == 200, patched.text
    assert _rules(world)["sis_id_matching"] is False and _rules(world)["sis_id_param"] == "sis_id"
    cleared = api.patch(_registration_url(world), json={"options": {"sis_id_matching": None}}, timeout=10)
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["options"] == {"sis_id_param": "sis_id"}
    assert _rules(world)["sis_id_matching"] is True


def test_the_cli_refuses_a_wrongly_typed_rule(world: IdentityWorld, keys_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GATEWAY_DATABASE_URL", world.gateway.services.settings.database_url)
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(keys_dir))
    monkeypatch.setenv("GATEWAY_ENV", "test")
    registration = world.lti.registration.id
    assert main(["registrations", "update", registration, "--option", "email_matching=yes"]) != 0
    assert "email_matching" in capsys.readouterr().err
    assert _rules(world)["email_matching"] is False
    assert main(["registrations", "update", registration, "--option", "email_matching=true", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["options"]["email_matching"] is True
    assert _rules(world)["email_matching"] is True


def test_an_unknown_option_is_refused_with_the_known_list(world: IdentityWorld, keys_dir: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 14: `registrations update --option nonsense_key=1` was stored; the API and the CLI refuse it alike."""
    api = world.admin()
    refused = api.patch(_registration_url(world), json={"options": {"nonsense_key": 1}}, timeout=10)
    assert refused.status_code == 422 and refused.json()["code"] == "VALIDATION_FAILED"
    (problem,) = refused.json()["errors"]
    known = "clever_id_from_sub, clever_id_param, clever_login_linking, email_matching, sis_id_matching, sis_id_param"
    assert problem == {"field": "options.nonsense_key",
                       "message": f"is not a known option; the known options are {known}"}

    monkeypatch.setenv("GATEWAY_DATABASE_URL", world.gateway.services.settings.database_url)
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(keys_dir))
    monkeypatch.setenv("GATEWAY_ENV", "test")
    registration = world.lti.registration.id
    before = api.get(_registration_url(world), timeout=10).json()
    assert main(["registrations", "update", registration, "--option", "nonsense_key=1"]) == 1
    err = capsys.readouterr().err
    assert "options.nonsense_key: is not a known option" in err and known in err
    assert api.get(_registration_url(world), timeout=10).json() == before  # nothing stored
    # A key stored before the check can still be removed.
    assert main(["registrations", "update", registration, "--unset-option", "nonsense_key"]) == 0
