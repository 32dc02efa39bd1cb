"""``gateway registrations add|list|show|update|disable|enable`` and ``gateway deployments list|approve|disable``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import Run


def _json(run: Run, *argv: str) -> Any:
    code, out, err = run(*argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_add_with_a_preset_needs_only_the_client_id(run: Run) -> None:
    code, out, err = run("registrations", "add", "--lms", "canvas", "--client-id", "10000000000042",
                         "--deployment", "42:abc")
    assert code == 0, err
    assert "https://canvas.instructure.com" in out and "https://sso.canvaslms.com/api/lti/authorize_redirect" in out
    assert "https://gateway.example.edu/lti/canvas.json" in out
    (row,) = _json(run, "registrations", "list")
    assert (row["issuer"], row["lms"], row["deployments"]) == ("https://canvas.instructure.com", "canvas",
                                                               {"42:abc": "active"})


def test_site_presets_and_brightspace_audience(run: Run) -> None:
    assert run("registrations", "add", "--lms", "moodle", "--client-id", "m1",
               "--site-url", "https://moodle.example.edu/")[0] == 0
    assert run("registrations", "add", "--lms", "brightspace", "--client-id", "b1",
               "--site-url", "https://district.brightspace.com")[0] == 0
    rows = {r["client_id"]: r for r in _json(run, "registrations", "list")}
    moodle = _json(run, "registrations", "show", rows["m1"]["id"])
    assert (moodle["issuer"], moodle["auth_token_url"]) == ("https://moodle.example.edu",
                                                            "https://moodle.example.edu/mod/lti/token.php")
    brightspace = _json(run, "registrations", "show", rows["b1"]["id"])
    assert brightspace["token_audience"] == "https://api.brightspace.com/auth/token"
    assert brightspace["auth_token_url"] == "https://auth.brightspace.com/core/connect/token"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("--lms", "moodle", "--client-id", "m1"), "site_url"),
        (("--client-id", "c1", "--issuer", "https://lms.example.edu"), "auth_login_url"),
        (("--lms", "canvas", "--client-id", "c1", "--option", "novalue"), "--option takes KEY=VALUE"),
    ],
)
def test_add_refusals_store_nothing(run: Run, argv: tuple[str, ...], expected: str) -> None:
    try:
        code, _, err = run("registrations", "add", *argv)
    except SystemExit as e:
        code, err = 2, str(e)
    assert code != 0 and expected in err
    assert _json(run, "registrations", "list") == []


def test_show_update_disable_and_the_audit_history(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGNAME", "ada")  # getpass.getuser() reads it first
    run("registrations", "add", "--lms", "schoology", "--client-id", "s1")
    (row,) = _json(run, "registrations", "list")
    reg = row["id"]
    updated = _json(run, "registrations", "update", reg, "--name", "District Schoology", "--auto-activate",
                    "--option", "email_matching=true", "--option", "clever_id_param=clever_id")
    assert updated["name"] == "District Schoology" and updated["auto_activate_deployments"] is True
    assert updated["options"] == {"email_matching": True, "clever_id_param": "clever_id"}
    again = _json(run, "registrations", "update", reg, "--unset-option", "email_matching", "--no-auto-activate",
                  "--auth-audience", "urn:aud")
    assert again["options"] == {"clever_id_param": "clever_id"} and again["token_audience"] == "urn:aud"
    assert _json(run, "registrations", "update", reg, "--clear-auth-audience")["auth_audience"] is None
    assert _json(run, "registrations", "disable", reg)["status"] == "disabled"
    assert _json(run, "registrations", "list", "--status", "disabled")[0]["id"] == reg
    assert _json(run, "registrations", "enable", reg)["status"] == "active"

    shown = _json(run, "registrations", "show", reg)
    cli = "cli:ada"  # the audit log says which OS user ran each command
    assert [(h["actor"], h["action"]) for h in shown["history"]] == [
        (cli, "lti.registration.status"), (cli, "lti.registration.status"), (cli, "lti.registration.update"),
        (cli, "lti.registration.update"), (cli, "lti.registration.update"), (cli, "lti.registration.add")]
    code, out, _ = run("registrations", "show", reg)
    assert code == 0 and "history (newest first):" in out and "District Schoology" in out


def test_update_refusals(run: Run) -> None:
    run("registrations", "add", "--lms", "canvas", "--client-id", "c1")
    (row,) = _json(run, "registrations", "list")
    code, _, err = run("registrations", "update", row["id"], "--jwks-url", "not a url")
    assert code == 1 and "VALIDATION_FAILED" in err and "jwks_url" in err
    assert run("registrations", "update", row["id"])[0] == 2  # nothing to change
    code, _, err = run("registrations", "disable", "reg_missing")
    assert code == 1 and "LTI_REGISTRATION_NOT_FOUND" in err


def test_deployments_list_approve_disable(run: Run) -> None:
    run("registrations", "add", "--lms", "blackboard", "--client-id", "app-1", "--deployment", "inst-1")
    (row,) = _json(run, "registrations", "list")
    made = _json(run, "deployments", "approve", "--registration", row["id"], "--deployment-id", "inst-2")
    assert (made["deployment_id"], made["status"]) == ("inst-2", "active")
    assert _json(run, "deployments", "disable", made["id"])["status"] == "disabled"
    by_platform_id = _json(run, "deployments", "disable", "--registration", row["id"], "--deployment-id", "inst-1")
    assert by_platform_id["status"] == "disabled"
    assert {d["deployment_id"] for d in _json(run, "deployments", "list", "--status", "disabled")} == {"inst-1",
                                                                                                     "inst-2"}
    assert _json(run, "deployments", "approve", made["id"])["status"] == "active"
    assert [d["deployment_id"] for d in _json(run, "deployments", "list", "--registration", row["id"],
                                              "--status", "active")] == ["inst-2"]
    code, out, _ = run("deployments", "list")
    assert code == 0 and "inst-1" in out and "inst-2" in out

    assert run("deployments", "approve")[0] == 2  # neither a dep_ id nor --registration/--deployment-id
    code, _, err = run("deployments", "approve", "dep_missing")
    assert code == 1 and "LTI_DEPLOYMENT_NOT_FOUND" in err
    code, _, err = run("deployments", "disable", "--registration", row["id"], "--deployment-id", "never-seen")
    assert code == 1 and "LTI_DEPLOYMENT_NOT_FOUND" in err
