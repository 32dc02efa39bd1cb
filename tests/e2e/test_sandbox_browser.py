"""Real Chromium through the dev sandbox, served as ``make run`` serves it (a real ``gateway serve`` in dev mode):
the landing page and the API reference, the vendor page holding a code and explaining it after use, an empty Deep
Linking pick refused and the picked content on the course page, and a posted grade arriving in the gradebook."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, Frame, Page

from sandbox.shell_launch import held_code
from tests.support.browser import chromium
from tests.support.dev_server import DevServer, dev_server
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group(__name__)]
WAIT_MS = 20_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    with dev_server(tmp_path_factory.mktemp("dev-server")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()  # a fresh cookie jar per test: the hold switch is a cookie
    try:
        yield context.new_page()
    finally:
        context.close()


def _tool(page: Page) -> Frame:
    """The LMS page's frame that holds the tool (once the course page that frames it has loaded)."""
    page.wait_for_url("**/sandbox/lms/course?**", timeout=WAIT_MS)
    page.wait_for_selector("iframe#tool", state="attached", timeout=WAIT_MS)
    frame = page.frame(name="tool")
    assert frame is not None
    return frame


def test_the_landing_page_leads_to_the_lms_and_the_api_reference(server: DevServer, page: Page) -> None:
    page.goto(server.url + "/")
    assert page.locator("h1").inner_text().startswith("Gateway sandbox")
    for section in ("#lms", "#clever", "#vendor", "#api", "#ops"):
        assert page.locator(section).is_visible()
    page.get_by_role("link", name="The simulated LMS").click()
    page.wait_for_url(server.url + "/sandbox/lms/")
    assert page.locator("h1").inner_text() == "Grade 7 Mathematics"
    assert "Keep the sign-in in the LMS page" in page.inner_text("body")  # not "postMessage storage"

    fetched: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: fetched.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(server.url + "/")
    fetched.clear()
    page.get_by_role("link", name="API reference").click()
    page.wait_for_url(server.url + "/docs/api")
    assert page.locator("h1").inner_text().startswith("Gateway vendor API")
    assert page.locator("section.op").count() > 50
    assert fetched == [server.url + "/docs/api"]  # the page alone: no script, style, font or image from anywhere
    assert errors == []  # a CSP violation would be reported here


def test_the_vendor_page_holds_the_code_and_explains_a_reload_after_use(server: DevServer, page: Page) -> None:
    page.goto(server.url + "/")  # the README's quick start: the switch on the landing page
    page.get_by_role("button", name="Hold codes for my shell").click()
    page.wait_for_url(server.url + "/")
    assert "holds each code" in page.inner_text("#hold-state")
    page.goto(server.url + "/sandbox/lms/")
    page.get_by_role("button", name="Open the activity as a student").click()
    tool = _tool(page)
    tool.wait_for_selector("#code", timeout=WAIT_MS)
    code = tool.inner_text("#code")
    assert f'"code":"{code}"' in tool.inner_text("#curl") and "/api/v1/launches/redeem" in tool.inner_text("#curl")

    key = server.api_key("launches")
    redeemed = requests.post(server.url + "/api/v1/launches/redeem", json={"code": code}, timeout=10,
                             headers={"Authorization": f"Bearer {key}"})
    assert redeemed.status_code == 200 and redeemed.json()["user"]["name"] == "Sam Student"

    tool.evaluate("location.reload()")
    tool.wait_for_selector("#used", timeout=WAIT_MS)
    assert "works once" in tool.inner_text("#used")
    tool.click("#launch-again")
    page.wait_for_url(server.url + "/sandbox/lms/")  # the whole LMS page, not a page inside its frame


def test_an_empty_pick_is_refused_and_picked_content_appears_on_the_course_page(server: DevServer, page: Page) -> None:
    page.goto(server.url + "/sandbox/lms/")
    page.get_by_role("button", name="Add content (deep linking) as the teacher").click()
    tool = _tool(page)
    tool.wait_for_selector("text=Pick content for the course", timeout=WAIT_MS)
    tool.get_by_role("button", name="Add to course").click()
    tool.wait_for_selector("#picker-error", timeout=WAIT_MS)
    assert "Pick at least one item" in tool.inner_text("#picker-error")

    tool.check("input[value=quiz]")
    tool.get_by_role("button", name="Add to course").click()
    tool.wait_for_selector("#items", timeout=WAIT_MS)
    tool.click("#back-to-course")
    page.wait_for_url(server.url + "/sandbox/lms/")  # the whole LMS page again, not the course inside its frame
    page.wait_for_selector("#content", timeout=WAIT_MS)
    quiz = page.locator("li.content-item", has_text="Fractions quiz").first
    assert "graded out of 10" in quiz.inner_text()

    quiz.get_by_role("button", name="Open as a student").click()
    launched = _tool(page)
    launched.wait_for_selector("#record", timeout=WAIT_MS)
    record = launched.inner_text("#record")
    assert '"activity": "quiz-42"' in record and '"lms_id": "dl-item-' in record


def test_a_posted_grade_arrives_in_the_gradebook(server: DevServer, page: Page) -> None:
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {server.api_key('launches', 'writeback')}"
    record = api.post(server.url + "/api/v1/launches/redeem", json={"code": held_code(server.url, "student")},
                      timeout=10).json()
    context, student = record["writeback"]["context_id"], record["user"]["id"]
    made = api.post(f"{server.url}/api/v1/contexts/{context}/assignments", timeout=10,
                    json={"title": "Gradebook check", "points_possible": 20, "vendor_id": "e2e-gradebook"})
    graded = api.put(f"{server.url}/api/v1/contexts/{context}/assignments/ext:e2e-gradebook/grades/{student}",
                     json={"score_given": 17, "score_maximum": 20, "comment": "Nearly there"}, timeout=10)
    assert made.status_code == 202 and graded.status_code == 202

    page.goto(server.url + "/sandbox/lms/")
    page.click("#gradebook-link")
    page.wait_for_url(server.url + "/sandbox/lms/gradebook")

    def arrived() -> bool:
        page.reload()
        return page.locator("tr.score", has_text="Gradebook check").count() == 1

    wait_until(arrived, timeout=60, what="the grade in the gradebook", interval=0.5)
    row = page.locator("tr.score", has_text="Gradebook check")
    assert row.locator("td.given").inner_text() == "17" and "Sam Student" in row.inner_text()
    assert "Nearly there" in row.inner_text()
    assert page.locator("tr.line-item", has_text="Gradebook check").count() == 1
    assert page.locator("tr.call", has_text="/scores").first.inner_text().endswith("200")
