"""Link by logging in with Clever, end to end over loopback: the simulated LMS launches an unmatched person, the
gateway holds the hand-off and offers Clever, the simulated Clever signs the person in, the callback hands back to
identity, the accounts are linked, and the held launch reaches the vendor app."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

from gateway.lti import claims as c
from tests.integration.identity.world import IdentityWorld, lms_user, page_links, sign_in
from tests.support.lti_flow import Browser


@pytest.fixture
def linked(world: IdentityWorld) -> IdentityWorld:
    seeded = world.district()
    world.link_district(seeded.district)
    world.rules(clever_login_linking=True)
    return world


def _held(world: IdentityWorld, sub: str, browser: Browser, **kwargs: Any) -> str:
    """Launch; the gateway answers with the link page instead of the vendor app. Returns the page URL."""
    result = world.launch(lms_user(sub), browser=browser, **kwargs)
    assert result.final.status_code == 303, result.final.text
    location = result.final.headers["Location"]
    assert "/identity/link/" in location and result.code is None
    return str(location)


def _through_clever(world: IdentityWorld, browser: Browser, page_url: str, clever_user_id: str,
                    authorized_by: str = "district") -> requests.Response:
    page = browser.get(page_url)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    sign_in(browser, world.clever, clever_user_id, authorized_by)
    response = browser.get(urljoin(page_url, page_links(page)["link-clever"]))
    assert response.status_code == 302
    assert response.headers["Location"].startswith(world.clever.url + "/oauth/authorize")
    for _ in range(5):
        response = browser.get(urljoin(response.url, response.headers["Location"]))
        if response.status_code != 302 or "/clever/callback" in response.url:
            break
    return response


def _refused(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text[:300]
    assert response.headers["Content-Type"].startswith("text/html")
    assert f'id="error-code">{code}<' in response.text


def test_an_unmatched_person_links_by_logging_in_with_clever(linked: IdentityWorld) -> None:
    world, browser = linked, linked.lti.browser()
    kid = world.seeded[0].students[1]
    page_url = _held(world, "lms-newcomer", browser)
    before = world.counts()
    callback = _through_clever(world, browser, page_url, kid)
    assert callback.status_code == 302 and callback.headers["Location"].startswith(world.vendor_url)
    record = world.record_clever(callback.headers["Location"])
    assert record["kind"] == "lti" and record["lti"]["sub"] == "lms-newcomer"
    assert record["clever_match"] == {"result": "clever_login", "clever_user_id": kid,
                                      "district_id": world.seeded[0].district, "linked_by": "clever_login",
                                      "conflict": False}
    assert record["clever"] == {"user_id": kid}
    assert world.counts()["launches"] == before["launches"] + 1  # the held launch, handed off once
    [entry] = [a for a in world.audit() if a.action == "identity.link"]
    assert entry.actor == f"clever_login:{kid}" and entry.details["method"] == "clever_login"
    # From now on the launch goes straight to the vendor app, matched by the existing link.
    again = world.launch_record(lms_user("lms-newcomer"))
    assert again["clever_match"]["result"] == "existing" and again["clever_match"]["linked_by"] == "clever_login"
    assert again["user"]["id"] == record["user"]["id"]
    # And the person's own Clever login lands on the same gateway user.
    assert world.clever_login(kid)["user_id"] == record["user"]["id"]


def test_a_person_known_from_clever_becomes_one_gateway_user(linked: IdentityWorld) -> None:
    world, browser = linked, linked.lti.browser()
    kid = world.seeded[0].students[0]
    from_clever = world.clever_login(kid)
    page_url = _held(world, "lms-known", browser)
    callback = _through_clever(world, browser, page_url, kid)
    record = world.record_clever(callback.headers["Location"])
    assert record["user"]["id"] == from_clever["user_id"]
    view = world.user(from_clever["user_id"])
    assert [i["sub"] for i in view["lti_identities"]] == ["lms-known"]


def test_continue_without_clever_hands_off_unmatched(linked: IdentityWorld) -> None:
    world, browser = linked, linked.lti.browser()
    page_url = _held(world, "lms-skipper", browser)
    page = browser.get(page_url)
    skip = browser.get(urljoin(page_url, page_links(page)["continue-without-clever"]))
    assert skip.status_code == 303 and skip.headers["Location"].startswith(world.vendor_url)
    record = world.record_clever(skip.headers["Location"])
    assert record["clever_match"]["result"] == "unmatched" and record["clever"] is None
    _refused(browser.get(page_url), 410, "IDENTITY_LINK_EXPIRED")  # the page works once


def test_a_clever_id_linked_to_another_lms_account_is_refused_with_a_page(linked: IdentityWorld) -> None:
    world, browser = linked, linked.lti.browser()
    kid = world.seeded[0].students[1]
    owner = world.launch_record(lms_user("lms-owner"), lis={"person_sourcedid": "S-1"})
    page_url = _held(world, "lms-intruder", browser)
    before = world.counts()
    _refused(_through_clever(world, browser, page_url, kid), 409, "IDENTITY_CLEVER_ID_LINKED_ELSEWHERE")
    after = world.counts()
    assert after["launches"] == before["launches"] and after["users"] == before["users"]  # nothing handed off
    conflicts = world.admin().get(f"{world.url}/api/v1/admin/identity/conflicts", timeout=10).json()["data"]
    assert [(c["kind"], c["method"], c["clever_user_ids"]) for c in conflicts] == [
        ("linked_elsewhere", "clever_login", [kid])]
    assert world.user(owner["user"]["id"])["clever_user_id"] == kid
    # The person may still go on without Clever, unmatched.
    skip = browser.get(urljoin(page_url, "/identity/link/" + page_url.rsplit("/", 1)[1] + "/skip"))
    record = world.record_clever(skip.headers["Location"])
    assert record["clever"] is None and record["clever_match"]["conflict"] is True


def test_a_clever_login_from_another_district_is_refused(linked: IdentityWorld) -> None:
    world, browser = linked, linked.lti.browser()
    other = world.district(name="Oak SD")
    page_url = _held(world, "lms-wanderer", browser)
    _refused(_through_clever(world, browser, page_url, other.students[0]), 409, "IDENTITY_DISTRICT_MISMATCH")
    [conflict] = world.admin().get(f"{world.url}/api/v1/admin/identity/conflicts", timeout=10).json()["data"]
    assert conflict["kind"] == "other_district" and conflict["details"]["clever_district_id"] == other.district


def test_an_established_user_is_not_merged_by_a_clever_login(linked: IdentityWorld) -> None:
    world, browser = linked, linked.lti.browser()
    kid = world.seeded[0].students[2]
    world.clever_login(kid)
    first = _held(world, "lms-veteran", browser)
    skip = browser.get(first + "/skip")
    world.record_clever(skip.headers["Location"])  # the LMS user got a hand-off: an established user now
    page_url = _held(world, "lms-veteran", browser)
    _refused(_through_clever(world, browser, page_url, kid), 409, "IDENTITY_MERGE_REQUIRED")


def test_only_plain_launches_wait_for_clever(linked: IdentityWorld) -> None:
    world = linked
    result = world.launch(lms_user("lms-teacher", learner=False), message_type=c.DEEP_LINKING_REQUEST)
    assert result.code is not None  # deep linking hands off at once, unmatched


def test_an_unknown_link_page_is_refused(linked: IdentityWorld) -> None:
    browser = linked.lti.browser()
    _refused(browser.get(f"{linked.url}/identity/link/{'x' * 43}"), 404, "IDENTITY_LINK_UNKNOWN")
    _refused(browser.get(f"{linked.url}/identity/link/short/clever"), 404, "IDENTITY_LINK_UNKNOWN")


def test_without_the_rule_an_unmatched_person_goes_straight_to_the_vendor(world: IdentityWorld) -> None:
    seeded = world.district()
    world.link_district(seeded.district)
    result = world.launch(lms_user("lms-plain"))
    assert result.code is not None


def test_a_library_user_links_by_logging_in_with_clever(linked: IdentityWorld) -> None:
    world, browser = linked, linked.lti.browser()
    library = world.clever.sim.add_district("Library Land", connect=False)
    teacher = world.clever.sim.add_user(library, first="Lib", last="Rary", email="lib@library.org",
                                        roles={"teacher": {"sis_id": "L-1",
                                                           "school": world.clever.sim.add_school(library)}})
    page_url = _held(world, "lms-librarian", browser)
    callback = _through_clever(world, browser, page_url, teacher, authorized_by="teacher")
    record = world.record_clever(callback.headers["Location"])
    assert record["clever_match"]["result"] == "clever_login" and record["clever"] == {"user_id": teacher}


def test_two_tabs_finish_a_held_launch_once(linked: IdentityWorld) -> None:
    world, browser = linked, linked.lti.browser()
    page_url = _held(world, "lms-two-tabs", browser)
    statuses: list[int] = []

    def skip() -> None:
        statuses.append(requests.get(page_url + "/skip", allow_redirects=False, timeout=10).status_code)

    threads = [threading.Thread(target=skip) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [303, 410, 410]
