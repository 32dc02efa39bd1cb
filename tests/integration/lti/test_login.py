"""Login initiation (GET and POST): registration lookup, the exact authentication request, the state cookie."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import func, select

from gateway.lti import management
from gateway.lti.registrations import add_registration
from gateway.store.models.lti import LtiLoginStateRow
from tests.support.lti_flow import parse_page
from tests.support.lti_sandbox import LtiWorld

AUTH_PARAMS = {"scope", "response_type", "response_mode", "prompt", "client_id", "redirect_uri", "state", "nonce",
               "login_hint", "lti_message_hint"}


def _login_params(world: LtiWorld, **changes: str | None) -> dict[str, str]:
    params = {
        "iss": world.platform.issuer,
        "login_hint": "teacher-1",
        "target_link_uri": world.gateway.services.lti.config.launch_url,
        "lti_message_hint": "opaque hint/with+chars",
        "client_id": world.platform.client_id,
        "lti_deployment_id": world.platform.deployment_id,
    }
    params.update({k: v for k, v in changes.items() if v is not None})
    return {k: v for k, v in params.items() if changes.get(k, "") is not None}


def _login(world: LtiWorld, method: str = "GET", **changes: str | None):  # type: ignore[no-untyped-def]
    url = world.gateway.services.lti.config.login_url
    browser = world.browser()
    params = _login_params(world, **changes)
    return browser.get(url + "?" + urlencode(params)) if method == "GET" else browser.post(url, params)


def _states(world: LtiWorld) -> int:
    with world.gateway.services.db.transaction() as s:
        return s.scalar(select(func.count()).select_from(LtiLoginStateRow)) or 0


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_login_redirects_with_exactly_the_authentication_request(world: LtiWorld, method: str) -> None:
    response = _login(world, method)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == world.platform.auth_url
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert set(query) == AUTH_PARAMS
    assert query["scope"] == "openid"
    assert query["response_type"] == "id_token"
    assert query["response_mode"] == "form_post"
    assert query["prompt"] == "none"
    assert query["client_id"] == world.platform.client_id
    assert query["redirect_uri"] == world.gateway.services.lti.config.launch_url
    assert query["login_hint"] == "teacher-1"
    assert query["lti_message_hint"] == "opaque hint/with+chars"  # unaltered
    assert len(query["state"]) >= 43 and len(query["nonce"]) >= 43 and query["state"] != query["nonce"]
    assert response.headers["Cache-Control"] == "no-store"


def test_message_hint_is_only_sent_back_when_received(world: LtiWorld) -> None:
    response = _login(world, lti_message_hint=None)
    assert "lti_message_hint" not in parse_qs(urlsplit(response.headers["Location"]).query)


def test_state_cookie_is_secure_samesite_none_partitioned_and_state_is_server_side(world: LtiWorld) -> None:
    response = _login(world)
    cookie = response.raw.headers.getlist("Set-Cookie")[0].lower()
    for attribute in ("secure", "httponly", "samesite=none", "partitioned", "path=/lti/", "max-age=600"):
        assert attribute in cookie
    state = parse_qs(urlsplit(response.headers["Location"]).query)["state"][0]
    assert state not in cookie  # the cookie binds the browser; the state itself stays server-side
    with world.gateway.services.db.transaction() as s:
        rows = s.scalars(select(LtiLoginStateRow)).all()
    assert len(rows) == 1 and state not in (rows[0].state_hash, rows[0].nonce_hash)
    assert rows[0].deployment_hint == world.platform.deployment_id


def test_storage_target_gives_a_put_data_page_aimed_at_the_auth_origin(world: LtiWorld) -> None:
    response = _login(world, lti_storage_target="post_message_forwarding")
    assert response.status_code == 200
    page = response.text
    assert "lti.put_data" in page
    assert '"post_message_forwarding"' in page
    assert f'"{world.platform.base_url}"' in page  # target origin: the platform's OIDC auth origin
    assert "state-" in page
    assert response.raw.headers.getlist("Set-Cookie"), "the partitioned cookie is set as well"


def test_canvas_deployment_id_alias_is_read(world: LtiWorld) -> None:
    with world.gateway.services.db.transaction() as s:
        management.set_deployment_status(s, _deployment_ref(world), "disabled", actor="test")
    response = _login(world, lti_deployment_id=None, deployment_id=world.platform.deployment_id)
    assert response.status_code == 403
    assert parse_page(response.text).error_code == "LTI_DEPLOYMENT_DISABLED"


def _deployment_ref(world: LtiWorld) -> str:
    from gateway.lti.registrations import find_deployment

    with world.gateway.services.db.transaction() as s:
        found = find_deployment(s, world.registration.id, world.platform.deployment_id)
    assert found is not None
    return found.id


def test_issuer_with_one_registration_needs_no_client_id(world: LtiWorld) -> None:
    assert _login(world, client_id=None).status_code == 302


def test_issuer_with_several_registrations_needs_the_client_id(world: LtiWorld) -> None:
    with world.gateway.services.db.transaction() as s:
        add_registration(s, issuer=world.platform.issuer, client_id="second-client",
                         auth_login_url=world.platform.auth_url, auth_token_url=world.platform.token_url,
                         jwks_url=world.platform.jwks_url)
    refused = _login(world, client_id=None)
    assert parse_page(refused.text).error_code == "LTI_CLIENT_ID_REQUIRED"
    chosen = _login(world, client_id="second-client")
    assert parse_qs(urlsplit(chosen.headers["Location"]).query)["client_id"] == ["second-client"]


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"iss": "https://nobody.example.com"}, 400, "LTI_ISSUER_UNKNOWN"),
        ({"client_id": "nobody"}, 400, "LTI_CLIENT_ID_UNKNOWN"),
        ({"target_link_uri": "https://evil.example.com/lti/launch"}, 400, "LTI_TARGET_LINK_URI_INVALID"),
        ({"target_link_uri": "http://127.0.0.1:1/lti/launch"}, 400, "LTI_TARGET_LINK_URI_INVALID"),
        ({"login_hint": None}, 400, "LTI_LOGIN_PARAM_MISSING"),
        ({"iss": None}, 400, "LTI_LOGIN_PARAM_MISSING"),
        ({"target_link_uri": None}, 400, "LTI_LOGIN_PARAM_MISSING"),
        ({"lti_message_hint": "x" * 9000}, 400, "LTI_LOGIN_PARAM_INVALID"),
    ],
    ids=["unknown-issuer", "unknown-client", "foreign-target", "other-port-target", "no-login-hint", "no-iss",
         "no-target", "huge-hint"],
)
def test_bad_logins_are_refused_and_store_no_state(
    world: LtiWorld, changes: dict[str, str | None], status: int, code: str
) -> None:
    response = _login(world, **changes)
    assert response.status_code == status
    assert parse_page(response.text).error_code == code
    assert _states(world) == 0
    assert not response.raw.headers.getlist("Set-Cookie")


def test_target_link_uri_may_carry_a_query(world: LtiWorld) -> None:
    target = world.gateway.services.lti.config.launch_url + "?placement=course_navigation"
    assert _login(world, target_link_uri=target).status_code == 302


def test_disabled_registration_is_refused(world: LtiWorld) -> None:
    with world.gateway.services.db.transaction() as s:
        management.set_registration_status(s, world.registration.id, "disabled", actor="test")
    response = _login(world)
    assert (response.status_code, parse_page(response.text).error_code) == (403, "LTI_REGISTRATION_DISABLED")
