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


def test_well_typed_rules_and_other_options_pass_and_reach_matching(world: IdentityWorld) -> None:
    api = world.admin()
    patched = api.patch(_registration_url(world), timeout=10,
                        json={"options": {"sis_id_matching": False, "sis_id_param": "sis_id", "vendor_flag": "x"}})
    assert patched.status_code == 200, patched.text
    assert _rules(world)["sis_id_matching"] is False and _rules(world)["sis_id_param"] == "sis_id"
    cleared = api.patch(_registration_url(world), json={"options": {"sis_id_matching": None}}, timeout=10)
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["options"] == {"sis_id_param": "sis_id", "vendor_flag": "x"}
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
