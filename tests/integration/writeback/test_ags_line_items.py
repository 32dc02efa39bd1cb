"""AGS line items: finding before creating, adopting a placement's line item, paging, query strings, tokens."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import generate_latest
from sqlalchemy import update

from gateway.lti import claims as c
from gateway.store.models.lti import LtiRegistrationRow
from sandbox.lms.platform import TEACHER
from tests.support.writeback_worlds import AgsWorld, ags_world, launch_record, running


def _coupled_launch(world: AgsWorld, scopes: list[str]) -> str:
    """A placement whose launch names its own line item (coupled grading); returns its ``rlk_`` id."""
    platform = world.lti.platform
    with platform.lock:
        platform.line_items["1"] = {"id": platform.lineitems_url + "/1", "label": "Placement item",
                                    "scoreMaximum": 100, "resourceLinkId": "link-2"}
        platform.next_line_item = 2
    endpoint = {"scope": scopes, "lineitems": platform.lineitems_url, "lineitem": platform.lineitems_url + "/1"}
    record = launch_record(world.lti, TEACHER, resource_link_id="link-2", extra_claims={c.AGS_ENDPOINT: endpoint})
    return str(record["resource_link"]["id"])


def test_a_placements_own_line_item_is_adopted_graded_and_never_deleted(ags: AgsWorld) -> None:
    link = _coupled_launch(ags, [c.AGS_SCOPE_SCORE])  # the course now grants scores only
    context = ags.api.ok("GET", f"/api/v1/contexts/{ags.context_id}", 200)
    create = context["capabilities"]["create_assignments"]
    assert create["available"] and "own line item" in create["note"]
    refused = ags.api.call("POST", f"/api/v1/contexts/{ags.context_id}/assignments",
                           json={"title": "Free-standing", "points_possible": 5})
    assert (refused.status_code, refused.json()["code"]) == (409, "CAPABILITY_UNAVAILABLE")
    made = ags.create(resource_link_id=link)
    graded = ags.grade(made["assignment"]["id"], ags.students[1], score_given=80, score_maximum=100)
    ags.api.settle(made["delivery"]["id"], graded["delivery"]["id"])
    shown = ags.api.ok("GET", f"/api/v1/contexts/{ags.context_id}/assignments/{made['assignment']['id']}", 200)
    assert shown["remote"]["id"] == ags.lti.platform.lineitems_url + "/1"
    assert shown["remote"]["detail"] == {"owned": False, "adopted": "coupled"}
    assert ags.lti.platform.line_items["1"]["label"] == "Placement item"  # no line-item scope: left as it is
    assert [(s["userId"], s["scoreGiven"]) for s in ags.scores()] == [("student-2", 80)]
    gone = ags.api.ok("DELETE", f"/api/v1/contexts/{ags.context_id}/assignments/{made['assignment']['id']}")
    assert "belongs to the placement" in ags.api.settle(gone["delivery"]["id"])[0]["detail"]
    assert "1" in ags.lti.platform.line_items


def test_with_the_line_item_scope_the_placements_line_item_keeps_its_label_and_maximum(ags: AgsWorld) -> None:
    """Issue 13: grading into the coupled line item PUT it with the vendor's label and maximum (100 -> 10)."""
    link = _coupled_launch(ags, [c.AGS_SCOPE_LINEITEM, c.AGS_SCOPE_SCORE])
    platform = ags.lti.platform
    made = ags.create(resource_link_id=link, title="Vendor's quiz", points_possible=10)
    graded = ags.grade(made["assignment"]["id"], ags.students[0], score_given=8, score_maximum=10)
    ags.api.settle(made["delivery"]["id"], graded["delivery"]["id"])
    assert platform.line_items["1"]["label"] == "Placement item" and platform.line_items["1"]["scoreMaximum"] == 100
    assert not [r for r in platform.requests_of("ags") if r.method in ("PUT", "DELETE")]
    assert [(s["userId"], s["scoreGiven"]) for s in ags.scores()] == [("student-1", 8)]
    # The vendor asks to change that one: only the field it changed, over the LMS's copy.
    path = f"/api/v1/contexts/{ags.context_id}/assignments/{made['assignment']['id']}"
    renamed = ags.api.ok("PATCH", path, json={"title": "Renamed by the vendor"})
    assert ags.api.settle(renamed["delivery"]["id"])[0]["state"] == "delivered"
    item = platform.line_items["1"]
    assert (item["label"], item["scoreMaximum"], item["resourceLinkId"]) == ("Renamed by the vendor", 100, "link-2")
    assert "resourceId" not in item  # still the LMS's, not claimed as the gateway's
    untouched = ags.api.ok("PATCH", path, json={"description": "Only ours"})
    assert ags.api.settle(untouched["delivery"]["id"])[0]["state"] == "delivered"
    assert len([r for r in platform.requests_of("ags") if r.method == "PUT"]) == 1


def test_a_line_item_made_by_an_earlier_attempt_is_found_not_duplicated(sqlite_url: str, keys_dir: Path) -> None:
    with ags_world(sqlite_url, keys_dir, worker=False) as world:
        made = world.create(tag="unit-3")
        asg = made["assignment"]["id"]
        platform = world.lti.platform
        with platform.lock:  # what a timed-out POST left behind in the LMS
            platform.line_items["7"] = {"id": platform.lineitems_url + "/7", "label": "Fractions quiz",
                                        "scoreMaximum": 10, "resourceId": asg, "tag": "unit-3"}
        with running(world.services):
            detail = world.api.settle(made["delivery"]["id"])[0]
        assert detail["result"] == {"remote_id": platform.lineitems_url + "/7", "owned": True, "found": "resource_id"}
        assert list(platform.line_items) == ["7"]
        assert not [r for r in platform.requests_of("ags") if r.method == "POST"]


def test_tagged_line_item_is_found_across_pages_with_a_bare_rel_and_query_strings_are_kept(
        sqlite_url: str, keys_dir: Path) -> None:
    with ags_world(sqlite_url, keys_dir, worker=False) as world:
        platform = world.lti.platform
        platform.unquoted_link_rel = True  # lti1p3platform's `rel=next`
        platform.lineitem_url_query = True  # line item URLs carry ?type=grade
        with platform.lock:
            for n in range(1, 131):  # 130 tagged items; only the last is nobody's
                platform.line_items[str(n)] = {"id": f"{platform.lineitems_url}/{n}?type=grade", "label": f"L{n}",
                                               "scoreMaximum": 10, "tag": "unit-4",
                                               **({"resourceId": f"other-{n}"} if n < 130 else {})}
            platform.next_line_item = 131
        made = world.create(tag="unit-4", title="Unit 4 check")
        graded = world.grade(made["assignment"]["id"], world.students[0])
        with running(world.services):
            world.api.settle(made["delivery"]["id"], graded["delivery"]["id"])
        shown = world.api.ok("GET", f"/api/v1/contexts/{world.context_id}/assignments/{made['assignment']['id']}", 200)
        assert shown["remote"]["id"] == f"{platform.lineitems_url}/130?type=grade"
        assert shown["remote"]["detail"] == {"owned": False, "adopted": "tag"}
        assert platform.line_items["130"]["label"] == "L130"  # adopted as it is: the LMS's line item
        assert not [r for r in platform.requests_of("ags") if r.method == "PUT"]
        listing = [r for r in platform.requests_of("ags") if r.method == "GET" and r.query.get("tag") == "unit-4"]
        assert [r.query.get("page", "1") for r in listing] == ["1", "2"]
        score = next(r for r in platform.requests_of("ags") if r.path.endswith("/scores"))
        assert score.path.endswith("/lineitems/130/scores") and score.query == {"type": "grade"}


def test_one_token_serves_many_deliveries_and_a_401_fetches_a_new_one_once(ags: AgsWorld) -> None:
    made = ags.create()
    first = [ags.grade(made["assignment"]["id"], s)["delivery"]["id"] for s in ags.students]
    ags.api.settle(made["delivery"]["id"], *first)
    tokens = ags.lti.platform.requests_of("token")
    assert len(tokens) == 1 and tokens[0].body["grant_type"] == "client_credentials"
    assert set(tokens[0].body["scope"].split()) == {c.AGS_SCOPE_LINEITEM, c.AGS_SCOPE_RESULT_READONLY,
                                                    c.AGS_SCOPE_SCORE}
    with ags.lti.platform.lock:
        ags.lti.platform.tokens.clear()  # the platform revokes every token
    again = ags.grade(made["assignment"]["id"], ags.students[0], score_given=10)
    assert ags.api.settle(again["delivery"]["id"])[0]["state"] == "delivered"
    assert len(ags.lti.platform.requests_of("token")) == 2
    metrics = generate_latest(ags.services.metrics.registry).decode()
    assert "gateway_ags_token_refreshes_total 1.0" in metrics
    assert 'gateway_ags_token_requests_total{outcome="fetched"} 2.0' in metrics


def test_the_assertion_names_a_separate_token_audience(sqlite_url: str, keys_dir: Path) -> None:
    with ags_world(sqlite_url, keys_dir) as world:
        audience = "https://auth.brightspace.example/core/connect/token"
        world.lti.platform.token_audience_override = audience
        with world.services.db.transaction() as s:
            s.execute(update(LtiRegistrationRow).values(auth_audience=audience))
        made = world.create()
        assert world.api.settle(made["delivery"]["id"])[0]["state"] == "delivered"
        # The platform checks `aud` against its own audience: a token was granted, so the assertion named it.
        assert [r.status for r in world.lti.platform.requests_of("token")] == [200]
