"""``gateway identity ...`` against a gateway's database: the same operations as the admin API, audited as ``cli``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.cli import main
from tests.integration.identity.world import IdentityWorld, lms_user


@pytest.fixture
def cli(world: IdentityWorld, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    settings = world.gateway.services.settings
    for name in ("env", "database_url", "keys_dir", "encryption_keys", "secret_key", "public_base_url"):
        monkeypatch.setenv("GATEWAY_" + name.upper(), str(getattr(settings, name)))
    monkeypatch.setenv("GATEWAY_LOG_LEVEL", "WARNING")

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_link_district_rules_show_unlink_and_relink(world: IdentityWorld, cli: Any) -> None:
    seeded = world.district()
    deployment = world.deployment_ref
    code, out, _ = cli("identity", "link-district", deployment, seeded.district, "--reason", "onboarding", "--json")
    assert code == 0 and json.loads(out)["clever_district_id"] == seeded.district
    code, out, _ = cli("identity", "rules", world.lti.registration.id, "--set", "email_matching=on", "--json")
    assert code == 0 and json.loads(out)["email_matching"] is True
    code, _, err = cli("identity", "rules", world.lti.registration.id, "--set", "bogus=1")
    assert code == 1 and "unknown rule" in err

    record = world.launch_record(lms_user("lms-cli", email="kid0@willow.org"))
    kid = seeded.students[0]
    assert record["clever_match"]["result"] == "email"
    code, out, _ = cli("identity", "show", record["user"]["id"], "--json")
    view = json.loads(out)
    identity = view["lti_identities"][0]["id"]
    assert code == 0 and view["clever_user_id"] == kid
    code, out, _ = cli("identity", "show", identity)  # an LTI identity id finds its user too
    assert code == 0 and f"clever_user_id={kid}" in out and "method=email" in out

    code, _, _ = cli("identity", "unlink", identity, "--reason", "parent asked")
    assert code == 0
    code, out, _ = cli("identity", "unmatched", "--json")
    assert [u["lti_identity_id"] for u in json.loads(out)] == [identity]
    code, _, err = cli("identity", "unlink", identity, "--reason", "again")
    assert code == 1 and "IDENTITY_NOT_LINKED" in err
    code, out, _ = cli("identity", "link", identity, kid, "--reason", "parent confirmed", "--json")
    assert code == 0 and json.loads(out)["clever_user_id"] == kid
    actions = [(a.action, a.actor, a.details.get("reason")) for a in world.audit()
               if a.action in ("identity.link", "identity.unlink")]
    assert actions[1:] == [("identity.unlink", "cli", "parent asked"), ("identity.link", "cli", "parent confirmed")]

    code, out, _ = cli("identity", "deployments", "--json")
    assert code == 0 and json.loads(out)[0]["clever_district_id"] == seeded.district
    code, out, _ = cli("identity", "unlink-district", deployment, "--reason", "district left", "--json")
    assert code == 0 and json.loads(out)["clever_district_id"] is None


def test_conflicts_listed_and_resolved(world: IdentityWorld, cli: Any) -> None:
    seeded = world.district()
    world.clever.sim.add_user(seeded.district, first="Dup", last="Kid",
                              roles={"student": {"sis_id": "S-2", "school": seeded.school}})
    world.sync(seeded.district)
    world.link_district(seeded.district)
    world.launch_record(lms_user("lms-dup"), lis={"person_sourcedid": "S-2"})
    code, out, _ = cli("identity", "conflicts", "--json")
    [conflict] = json.loads(out)
    assert code == 0 and conflict["kind"] == "ambiguous"
    code, out, _ = cli("identity", "conflicts")
    assert f"id={conflict['id']}" in out and "kind=ambiguous" in out
    code, _, _ = cli("identity", "resolve-conflict", conflict["id"], "--reason", "SIS fixed")
    assert code == 0
    code, out, _ = cli("identity", "conflicts", "--json")
    assert json.loads(out) == []


def test_a_reason_is_required(cli: Any) -> None:
    with pytest.raises(SystemExit):
        cli("identity", "unlink", "lid_x")
    with pytest.raises(SystemExit):
        cli("identity", "unlink", "lid_x", "--reason", "  ")
