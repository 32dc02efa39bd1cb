"""Each LMS preset produces the issuer and endpoints the LMS publishes in its developer docs."""

from __future__ import annotations

import pytest

from gateway.lti.presets import PRESETS, PresetError, apply_preset

SSO = "https://sso.canvaslms.com"
BB = "https://developer.blackboard.com/api/v1"
SGY = "https://lti-service.svc.schoology.com/lti-service"

# What the brief lists, spelled out here rather than derived from the presets.
EXPECTED = {
    "canvas": (None, {
        "lms": "canvas", "issuer": "https://canvas.instructure.com",
        "auth_login_url": f"{SSO}/api/lti/authorize_redirect", "auth_token_url": f"{SSO}/login/oauth2/token",
        "jwks_url": f"{SSO}/api/lti/security/jwks", "auth_audience": None}),
    "canvas-beta": (None, {
        "lms": "canvas", "issuer": "https://canvas.beta.instructure.com",
        "auth_login_url": "https://sso.beta.canvaslms.com/api/lti/authorize_redirect",
        "auth_token_url": "https://sso.beta.canvaslms.com/login/oauth2/token",
        "jwks_url": "https://sso.beta.canvaslms.com/api/lti/security/jwks", "auth_audience": None}),
    "canvas-test": (None, {
        "lms": "canvas", "issuer": "https://canvas.test.instructure.com",
        "auth_login_url": "https://sso.test.canvaslms.com/api/lti/authorize_redirect",
        "auth_token_url": "https://sso.test.canvaslms.com/login/oauth2/token",
        "jwks_url": "https://sso.test.canvaslms.com/api/lti/security/jwks", "auth_audience": None}),
    "schoology": (None, {
        "lms": "schoology", "issuer": "https://schoology.schoology.com",
        "auth_login_url": f"{SGY}/authorize-redirect", "auth_token_url": f"{SGY}/access-token",
        "jwks_url": f"{SGY}/.well-known/jwks", "auth_audience": None}),
    "blackboard": (None, {
        "lms": "blackboard", "issuer": "https://blackboard.com",
        "auth_login_url": f"{BB}/gateway/oidcauth", "auth_token_url": f"{BB}/gateway/oauth2/jwttoken",
        "jwks_url": f"{BB}/management/applications/app-123/jwks.json", "auth_audience": None}),
    "brightspace": ("https://district.brightspace.com/", {
        "lms": "brightspace", "issuer": "https://district.brightspace.com",
        "auth_login_url": "https://district.brightspace.com/d2l/lti/authenticate",
        "auth_token_url": "https://auth.brightspace.com/core/connect/token",
        "auth_audience": "https://api.brightspace.com/auth/token",
        "jwks_url": "https://district.brightspace.com/d2l/.well-known/jwks"}),
    "moodle": ("https://moodle.example.edu/lms/", {
        "lms": "moodle", "issuer": "https://moodle.example.edu/lms",
        "auth_login_url": "https://moodle.example.edu/lms/mod/lti/auth.php",
        "auth_token_url": "https://moodle.example.edu/lms/mod/lti/token.php",
        "jwks_url": "https://moodle.example.edu/lms/mod/lti/certs.php", "auth_audience": None}),
}


def test_every_preset_is_tested() -> None:
    assert set(EXPECTED) == set(PRESETS)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_preset_fills_the_published_endpoints(name: str) -> None:
    site_url, expected = EXPECTED[name]
    assert apply_preset(name, client_id="app-123", site_url=site_url) == expected


def test_explicit_values_win_over_the_preset() -> None:
    values = apply_preset("canvas", client_id="1", given={"issuer": "https://canvas.district.edu", "jwks_url": None})
    assert values["issuer"] == "https://canvas.district.edu"
    assert values["jwks_url"] == f"{SSO}/api/lti/security/jwks"


def test_site_presets_need_no_site_url_when_every_site_endpoint_is_given() -> None:
    given = {"issuer": "https://m.edu", "auth_login_url": "https://m.edu/a", "auth_token_url": "https://m.edu/t",
             "jwks_url": "https://m.edu/k"}
    assert apply_preset("moodle", client_id="1", given=given)["auth_token_url"] == "https://m.edu/t"


@pytest.mark.parametrize(
    ("name", "site_url", "field"),
    [
        ("moodle", None, "site_url"),  # its endpoints live under the site
        ("brightspace", None, "site_url"),
        ("canvas", "https://district.instructure.com", "site_url"),  # hosted Canvas: one issuer for all
        ("moodle", "moodle.example.edu", "site_url"),  # not absolute
        ("moodle", "https://moodle.example.edu/?x=1", "site_url"),
        ("sakai", None, "preset"),
    ],
)
def test_refusals_name_the_input_to_fix(name: str, site_url: str | None, field: str) -> None:
    with pytest.raises(PresetError) as refused:
        apply_preset(name, client_id="1", site_url=site_url)
    assert refused.value.field == field
