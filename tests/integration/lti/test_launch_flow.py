"""A valid launch end to end, and the refusals that need more than a platform switch (state, replay, deployments)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select, update

from gateway.lti import claims as c
from gateway.lti import management
from gateway.lti.registrations import add_registration, find_deployment
from gateway.store.models.lti import LtiContextRow, LtiDeploymentRow, LtiLoginStateRow, LtiResourceLinkRow
from sandbox.lms import LaunchIntent
from sandbox.lms.cases import OTHER_CLIENT_ID, UNKNOWN_DEPLOYMENT, Case
from tests.support.lti_flow import Browser, launch, parse_page
from tests.support.lti_sandbox import LtiWorld, stored


def _redeemed(world: LtiWorld, code: str | None) -> dict[str, object]:
    assert code, "the launch should have handed off"
    response = world.redeem(code)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_valid_launch_hands_off_to_the_vendor_app_once(world: LtiWorld) -> None:
    browser = world.browser()
    result = launch(browser, world.platform.prepare())
    assert result.final.status_code == 303
    location = result.final.headers["Location"]
    assert location.startswith(world.gateway.services.settings.vendor_launch_url + "?code=")
    gateway_cookies = browser.cookies[urlsplit(world.gateway.url).netloc]
    assert not any(name.startswith("gw_lti_state_") for name in gateway_cookies)
    record = _redeemed(world, result.code)
    assert record["kind"] == "lti" and record["message_type"] == c.RESOURCE_LINK_REQUEST
    again = world.redeem(str(result.code))
    assert (again.status_code, again.json()["code"]) == (409, "HANDOFF_CODE_ALREADY_REDEEMED")
    other_key = world.redeem(str(result.code), key=world.gateway.api_key("launches", name="other-app"))
    assert other_key.status_code == 409


def test_launch_record_carries_identity_roles_course_and_writeback(world: LtiWorld) -> None:
    record = _redeemed(world, launch(world.browser(), world.platform.prepare()).code)
    user, lti, roles = record["user"], record["lti"], record["roles"]
    assert isinstance(user, dict) and isinstance(lti, dict) and isinstance(roles, dict)
    assert user["id"].startswith("usr_") and user["name"] == "Tess Teacher" and user["email"]
    assert lti["issuer"] == world.platform.issuer and lti["sub"] == "teacher-1"
    assert lti["registration"] == world.registration.id and lti["deployment_id"] == world.platform.deployment_id
    assert roles["instructor"] is True and roles["learner"] is False
    assert "Instructor" in roles["simple"] and c.MEMBERSHIP_ROLE + "Instructor" in roles["full"]
    context, link, writeback = record["context"], record["resource_link"], record["writeback"]
    assert isinstance(context, dict) and isinstance(link, dict) and isinstance(writeback, dict)
    assert context["id"].startswith("ctx_") and context["lms_id"] == "course-1"
    assert link["id"].startswith("rlk_") and link["lms_id"] == "link-1"
    assert record["custom"] == {"unit": "fractions"}
    assert record["clever"] is None and record["deep_linking"] is None
    assert writeback["context_id"] == context["id"] and writeback["nrps"] is True
    assert writeback["ags"]["can_post_scores"] is True  # type: ignore[index]
    # Endpoints stay server-side: the record never names the platform's AGS or NRPS URLs.
    assert world.platform.lineitems_url not in str(record) and world.platform.memberships_url not in str(record)
    with world.gateway.services.db.transaction() as s:
        row = s.get(LtiContextRow, context["id"])
        assert row is not None and row.ags_lineitems_url == world.platform.lineitems_url
        assert row.nrps_url == world.platform.memberships_url and c.AGS_SCOPE_SCORE in row.ags_scopes


def test_returning_user_keeps_one_gateway_user_and_course(world: LtiWorld) -> None:
    first = _redeemed(world, launch(world.browser(), world.platform.prepare()).code)
    before = stored(world.gateway)
    second = _redeemed(world, launch(world.browser(), world.platform.prepare()).code)
    assert first["user"]["id"] == second["user"]["id"]  # type: ignore[index]
    assert first["context"]["id"] == second["context"]["id"]  # type: ignore[index]
    after = stored(world.gateway)
    assert after["users"] == before["users"] and after["lti_contexts"] == before["lti_contexts"]
    assert after["launches"] == before["launches"] + 1


def test_known_clever_identity_appears_in_the_record(world: LtiWorld) -> None:
    first = _redeemed(world, launch(world.browser(), world.platform.prepare()).code)
    from gateway.store.models.core import UserRow

    with world.gateway.services.db.transaction() as s:
        s.execute(update(UserRow).where(UserRow.id == first["user"]["id"]).values(clever_user_id="clever-u-1"))  # type: ignore[index]
    second = _redeemed(world, launch(world.browser(), world.platform.prepare()).code)
    assert second["clever"] == {"user_id": "clever-u-1"}


def test_replayed_launch_is_refused_and_stores_nothing(world: LtiWorld) -> None:
    browser = world.browser()
    first = launch(browser, world.platform.prepare())
    assert first.code
    before = stored(world.gateway)
    replay = browser.post(f"{world.gateway.url}/lti/launch", first.form_fields)
    assert parse_page(replay.text).error_code == "LTI_ID_TOKEN_REPLAYED"
    assert stored(world.gateway) == before


def test_replayed_token_with_a_fresh_login_state_is_refused(world: LtiWorld) -> None:
    browser = world.browser()
    first = launch(browser, world.platform.prepare())
    assert first.code
    fresh = launch(browser, world.platform.prepare(), tamper=lambda f: f.update(id_token=first.form_fields["id_token"]))
    assert parse_page(fresh.final.text).error_code == "LTI_ID_TOKEN_REPLAYED"


def test_concurrent_posts_of_one_launch_hand_off_once(world: LtiWorld) -> None:
    browser = world.browser()
    fields: dict[str, str] = {}
    # Hold the platform's form back (post a made-up state instead), then post it four times at once.
    launch(browser, world.platform.prepare(), tamper=lambda f: (fields.update(f), f.update(state="held-back")))
    statuses: list[int] = []
    cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies[urlsplit(world.gateway.url).netloc].items())

    def post() -> None:
        response = requests.post(f"{world.gateway.url}/lti/launch", data=fields, headers={"Cookie": cookie},
                                 allow_redirects=False, timeout=10)
        statuses.append(response.status_code)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses).count(303) == 1, statuses


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda f: f.pop("state"), "LTI_STATE_MISSING"),
        (lambda f: f.update(state="made-up-state"), "LTI_STATE_UNKNOWN"),
        (lambda f: f.pop("id_token"), "LTI_ID_TOKEN_MISSING"),
    ],
    ids=["missing", "unknown", "no-id-token"],
)
def test_state_problems_are_refused(world: LtiWorld, change: Callable[[dict[str, str]], object], code: str) -> None:
    before = stored(world.gateway)
    refused = launch(world.browser(), world.platform.prepare(), tamper=change)
    assert (refused.final.status_code, refused.error_code) == (400, code)
    assert stored(world.gateway) == before


def test_expired_state_is_refused(world: LtiWorld) -> None:
    def expire(fields: dict[str, str]) -> None:
        with world.gateway.services.db.transaction() as s:
            s.execute(update(LtiLoginStateRow).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))

    before = stored(world.gateway)
    result = launch(world.browser(), world.platform.prepare(), tamper=expire)
    assert parse_page(result.final.text).error_code == "LTI_STATE_EXPIRED"
    assert stored(world.gateway) == before


def test_blocked_cookie_shows_the_new_window_page_and_the_new_window_launches(world: LtiWorld) -> None:
    framed = world.browser()
    framed.block_cookies_from.add(urlsplit(world.gateway.url).netloc)  # third-party cookies blocked
    before = stored(world.gateway)
    refused = launch(framed, world.platform.prepare())
    assert refused.final.status_code == 400
    page = parse_page(refused.final.text)
    assert page.error_code == "LTI_STATE_COOKIE_MISSING"
    assert stored(world.gateway) == before
    top_level = world.browser()  # the new window: first-party, cookies allowed
    retried = launch(top_level, page.links["open-new-window"].replace("&amp;", "&"))
    assert retried.code, retried.final.text[:300]


def test_state_begun_by_another_browser_is_a_mismatch(world: LtiWorld) -> None:
    victim, attacker = world.browser(), world.browser()
    launch(victim, world.platform.prepare(), tamper=lambda f: f.clear())  # the victim began a login of its own
    stolen: dict[str, str] = {}
    launch(attacker, world.platform.prepare(), tamper=lambda f: (stolen.update(f), f.clear()))
    before = stored(world.gateway)
    forced = victim.post(f"{world.gateway.url}/lti/launch", stolen)  # login CSRF: attacker's launch, victim's browser
    assert parse_page(forced.text).error_code == "LTI_STATE_MISMATCH"
    assert stored(world.gateway) == before


def test_unknown_deployment_is_recorded_pending_then_approved(world: LtiWorld) -> None:
    intent = LaunchIntent(case=Case.UNKNOWN_DEPLOYMENT)
    before = stored(world.gateway)
    first = launch(world.browser(), world.platform.prepare(intent, deployment_hint=False))
    assert (first.final.status_code, first.error_code) == (403, "LTI_DEPLOYMENT_UNKNOWN")
    after = stored(world.gateway)
    assert after == {**before, "lti_deployments": before["lti_deployments"] + 1}
    with world.gateway.services.db.transaction() as s:
        pending = find_deployment(s, world.registration.id, UNKNOWN_DEPLOYMENT)
    assert pending is not None and pending.status == "pending"
    second = launch(world.browser(), world.platform.prepare(intent, deployment_hint=False))
    assert second.error_code == "LTI_DEPLOYMENT_PENDING" and stored(world.gateway) == after
    with world.gateway.services.db.transaction() as s:
        management.set_deployment_status(s, pending.id, "active", actor="test")
    assert launch(world.browser(), world.platform.prepare(intent, deployment_hint=False)).code


def test_auto_activating_registration_accepts_a_new_deployment(world: LtiWorld) -> None:
    from gateway.store.models.lti import LtiRegistrationRow

    with world.gateway.services.db.transaction() as s:
        s.execute(update(LtiRegistrationRow).values(auto_activate_deployments=True))
    result = launch(world.browser(), world.platform.prepare(LaunchIntent(case=Case.UNKNOWN_DEPLOYMENT),
                                                             deployment_hint=False))
    assert result.code
    with world.gateway.services.db.transaction() as s:
        statuses = set(s.scalars(select(LtiDeploymentRow.status)))
    assert statuses == {"active"}


def test_disabled_deployment_and_registration_are_refused(world: LtiWorld) -> None:
    with world.gateway.services.db.transaction() as s:
        deployment = find_deployment(s, world.registration.id, world.platform.deployment_id)
    assert deployment is not None
    with world.gateway.services.db.transaction() as s:
        management.set_deployment_status(s, deployment.id, "disabled", actor="test")
    before = stored(world.gateway)
    refused = launch(world.browser(), world.platform.prepare(), )
    assert refused.error_code == "LTI_DEPLOYMENT_DISABLED"  # at login (the platform named the deployment)
    assert stored(world.gateway) == before
    no_hint = launch(world.browser(), world.platform.prepare(deployment_hint=False))
    assert no_hint.error_code == "LTI_DEPLOYMENT_DISABLED"  # at launch
    assert stored(world.gateway) == before
    with world.gateway.services.db.transaction() as s:
        management.set_deployment_status(s, deployment.id, "active", actor="test")

    def disable_registration(fields: dict[str, str]) -> None:
        with world.gateway.services.db.transaction() as s:
            management.set_registration_status(s, world.registration.id, "disabled", actor="test")

    between = launch(world.browser(), world.platform.prepare(), tamper=disable_registration)
    assert between.error_code == "LTI_REGISTRATION_DISABLED"
    assert stored(world.gateway) == before


def test_deployment_other_than_the_login_named_is_refused(world: LtiWorld) -> None:
    intent = LaunchIntent(extra_claims={c.DEPLOYMENT_ID: "sandbox-deployment-2"})
    before = stored(world.gateway)
    assert launch(world.browser(), world.platform.prepare(intent)).error_code == "LTI_DEPLOYMENT_MISMATCH"
    assert stored(world.gateway) == before  # not even a pending row for the deployment the token names


def test_token_for_another_registration_of_the_issuer_is_an_aud_mismatch(world: LtiWorld) -> None:
    with world.gateway.services.db.transaction() as s:
        add_registration(s, issuer=world.platform.issuer, client_id=OTHER_CLIENT_ID,
                         auth_login_url=world.platform.auth_url, auth_token_url=world.platform.token_url,
                         jwks_url=world.platform.jwks_url)
    before = stored(world.gateway)
    result = launch(world.browser(), world.platform.prepare(LaunchIntent(case=Case.AUD_MISMATCH)))
    assert result.error_code == "LTI_AUD_MISMATCH"
    assert stored(world.gateway) == before


def test_token_from_another_registered_platform_is_an_issuer_mismatch(world: LtiWorld) -> None:
    with world.gateway.services.db.transaction() as s:
        add_registration(s, issuer="https://other-lms.example.com", client_id="x",
                         auth_login_url="https://other-lms.example.com/auth", auth_token_url="https://o/token",
                         jwks_url="https://other-lms.example.com/jwks")
    intent = LaunchIntent(extra_claims={"iss": "https://other-lms.example.com"})
    before = stored(world.gateway)
    assert launch(world.browser(), world.platform.prepare(intent)).error_code == "LTI_ISSUER_MISMATCH"
    assert stored(world.gateway) == before


def test_iat_within_the_leeway_is_accepted(world: LtiWorld) -> None:
    import time

    now = int(time.time())
    intent = LaunchIntent(extra_claims={"iat": now + 10, "exp": now + 300})
    assert launch(world.browser(), world.platform.prepare(intent)).code


def test_login_by_post_launches_too(world: LtiWorld) -> None:
    assert launch(world.browser(), world.platform.prepare(), post_login=True).code


def test_resource_link_rows_keep_the_coupled_line_item(world: LtiWorld) -> None:
    intent = LaunchIntent(extra_claims={c.AGS_ENDPOINT: {"scope": [c.AGS_SCOPE_SCORE],
                                                         "lineitem": world.platform.lineitems_url + "/7"}})
    record = _redeemed(world, launch(world.browser(), world.platform.prepare(intent)).code)
    ags = record["writeback"]["ags"]  # type: ignore[index]
    assert ags["has_line_item"] is True and ags["can_manage_line_items"] is False
    with world.gateway.services.db.transaction() as s:
        link = s.get(LtiResourceLinkRow, record["resource_link"]["id"])  # type: ignore[index]
        assert link is not None and link.ags_lineitem_url == world.platform.lineitems_url + "/7"


def test_cookie_is_cleared_after_the_launch(world: LtiWorld) -> None:
    browser = Browser()
    try:
        result = launch(browser, world.platform.prepare())
        assert result.code
        cleared = [h for h in browser.set_cookie_headers if "max-age=0" in h.lower() or "1970" in h]
        assert cleared and "partitioned" in cleared[-1].lower()
        assert parse_qs(urlsplit(result.final.headers["Location"]).query)["code"]
    finally:
        browser.close()


def test_platform_error_post_is_refused_with_its_code(world: LtiWorld) -> None:
    """The LMS answers the authentication request with an OAuth error instead of an id_token."""
    with world.gateway.services.db.transaction() as s:
        add_registration(s, issuer=world.platform.issuer, client_id="client-the-lms-lacks",
                         auth_login_url=world.platform.auth_url, auth_token_url=world.platform.token_url,
                         jwks_url=world.platform.jwks_url)
    login = world.platform.prepare().replace(f"client_id={world.platform.client_id}", "client_id=client-the-lms-lacks")
    before = stored(world.gateway)
    result = launch(world.browser(), login)
    assert (result.final.status_code, result.error_code) == (400, "LTI_PLATFORM_ERROR")
    assert "unauthorized_client" in result.final.text and stored(world.gateway) == before
