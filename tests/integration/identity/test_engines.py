"""The main paths once more on SQLite and PostgreSQL: a roster match that folds a Clever-first user in, and the
Clever-login link flow."""

from __future__ import annotations

from urllib.parse import urljoin

from tests.integration.identity.world import IdentityWorld, follow, lms_user, page_links, sign_in


def test_match_and_link_flow_on_both_engines(world_on: IdentityWorld) -> None:
    world = world_on
    seeded = world.district()
    world.link_district(seeded.district)
    from_clever = world.clever_login(seeded.students[1])
    record = world.launch_record(lms_user("lms-s1"), lis={"person_sourcedid": "S-1"})
    assert record["user"]["id"] == from_clever["user_id"] and record["clever_match"]["result"] == "sis_id"

    world.rules(clever_login_linking=True)
    browser = world.lti.browser()
    held = world.launch(lms_user("lms-new"), browser=browser)
    page_url = held.final.headers["Location"]
    page = browser.get(page_url)
    sign_in(browser, world.clever, seeded.students[2])
    location = follow(browser, browser.get(urljoin(page_url, page_links(page)["link-clever"])), world.vendor_url)
    linked = world.record_clever(location)
    assert linked["clever_match"]["result"] == "clever_login" and linked["clever"] == {"user_id": seeded.students[2]}
