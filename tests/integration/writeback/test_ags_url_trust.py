"""URLs from a platform are followed only as far as the registration says (issue 17).

Before: a line item id or a ``next`` link in an AGS answer was followed with the bearer token to any host.
Now a line item id or ``next`` link off the line items container's origin fails the delivery with
``AGS_URL_NOT_ALLOWED`` (no retry can fix it), and nothing is sent there.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.writeback_worlds import ags_world, running

ELSEWHERE = "http://127.0.0.2:9/lineitems/7"  # another host (nothing listens there)


def test_a_line_item_id_on_another_host_fails_the_delivery(sqlite_url: str, keys_dir: Path) -> None:
    with ags_world(sqlite_url, keys_dir, worker=False) as world:
        made = world.create(tag="unit-3")
        platform = world.lti.platform
        with platform.lock:
            platform.line_items["7"] = {"id": ELSEWHERE, "label": "Fractions quiz", "scoreMaximum": 10,
                                        "resourceId": made["assignment"]["id"], "tag": "unit-3"}
        with running(world.services):
            detail = world.api.settle(made["delivery"]["id"])[0]
        assert detail["state"] == "failed", detail
        assert "AGS_URL_NOT_ALLOWED" in detail["detail"]
        shown = world.api.ok("GET", f"/api/v1/contexts/{world.context_id}/assignments/{made['assignment']['id']}",
                             200)
        assert shown["remote"]["id"] is None


def test_a_next_link_to_another_host_is_not_followed(sqlite_url: str, keys_dir: Path) -> None:
    with ags_world(sqlite_url, keys_dir, worker=False) as world:
        made = world.create(tag="unit-3")
        platform = world.lti.platform
        with platform.lock:
            platform.next_link_origin = "http://127.0.0.2:9"  # the LMS's next links point elsewhere
            platform.page_cap = 1
            for n in ("7", "8"):  # another assignment's line items with the same tag: two pages
                platform.line_items[n] = {"id": platform.lineitems_url + "/" + n, "label": "Other",
                                          "scoreMaximum": 10, "tag": "unit-3", "resourceId": "asg_other"}
        with running(world.services):
            detail = world.api.settle(made["delivery"]["id"])[0]
        assert detail["state"] == "failed", detail
        assert "AGS_URL_NOT_ALLOWED" in detail["detail"] and "next link" in detail["detail"]
