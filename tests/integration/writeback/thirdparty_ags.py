"""lti1p3platform's own AGS and NRPS handlers (``AssignmentsGradesService``, ``NamesRoleProvisioningService``)
behind Flask routes, for the writeback tests.

The library checks the bearer token and its scopes and dispatches to the methods a platform implements
(``find_lineitems``, ``create_lineitem``, ``update_score``...); this adapter keeps line items and scores in
memory and turns the library's ``Response`` into HTTP the way its Django adapter does (``wrap_json_resp``): the
line item list is the ``content`` of the page, and the next page is a ``Link`` header with a bare
``rel=next`` (0.1.8's ``generate_next_link``).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, request
from lti1p3platform.exceptions import LineItemNotFoundException
from lti1p3platform.lineitem import TLineItem
from lti1p3platform.membership import Context
from lti1p3platform.response import Response as LtiResponse
from lti1p3platform.response import generate_next_link
from lti1p3platform.score import TScore, UpdateScoreStatus
from lti1p3platform.service_connector import AssignmentsGradesService, NamesRoleProvisioningService, TPage

from tests.support.live import LiveServer
from tests.support.lti_thirdparty import FlaskRequest, ThirdPartyPlatform, create_app


class AgsStore:
    def __init__(self, lineitems_url: str) -> None:
        self.lineitems_url = lineitems_url
        self.lock = threading.Lock()
        self.line_items: dict[str, dict[str, Any]] = {}
        self.scores: list[tuple[str, dict[str, Any]]] = []
        self.listings: list[dict[str, Any]] = []  # the filters and page of every line item list asked for
        self.next_id = 1
        self.members: list[dict[str, Any]] = []  # the course roster its Names and Roles service lists
        self.roster_reads: list[dict[str, str]] = []


class Service(AssignmentsGradesService):
    def __init__(self, store: AgsStore, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.store = store

    def find_lineitems(self, page: int = 1, limit: int | None = None, line_item_id: str | None = None,
                       resource_link_id: str | None = None, resource_id: str | None = None,
                       tag: str | None = None) -> TPage:
        with self.store.lock:
            self.store.listings.append({"page": str(page), "resource_id": resource_id, "tag": tag})
            items = [i for i in self.store.line_items.values()
                     if (resource_id is None or i.get("resourceId") == resource_id)
                     and (tag is None or i.get("tag") == tag)
                     and (resource_link_id is None or i.get("resourceLinkId") == resource_link_id)]
        size, number = int(limit or 100), int(page)
        return {"content": items[(number - 1) * size: number * size], "has_next": number * size < len(items)}

    def find_lineitem(self, line_item_id: str) -> TLineItem:
        with self.store.lock:
            if line_item_id not in self.store.line_items:
                raise LineItemNotFoundException()
            return self.store.line_items[line_item_id]  # type: ignore[return-value]  # a plain dict

    def create_lineitem(self, creation_data: TLineItem) -> TLineItem:
        with self.store.lock:
            item_id = str(self.store.next_id)
            self.store.next_id += 1
            made = {**creation_data, "id": f"{self.store.lineitems_url}/{item_id}"}
            self.store.line_items[item_id] = made
        return made  # type: ignore[return-value]  # a plain dict

    def update_lineitem(self, update_data: TLineItem) -> TLineItem:
        item_id = str(update_data["id"])
        with self.store.lock:
            if item_id not in self.store.line_items:
                raise LineItemNotFoundException()
            updated = {**update_data, "id": self.store.line_items[item_id]["id"]}
            self.store.line_items[item_id] = updated
        return updated  # type: ignore[return-value]  # a plain dict

    def delete_lineitem(self, line_item_id: str) -> None:
        with self.store.lock:
            if self.store.line_items.pop(line_item_id, None) is None:
                raise LineItemNotFoundException()

    def update_score(self, line_item_id: str, score: TScore) -> UpdateScoreStatus:
        with self.store.lock:
            if line_item_id not in self.store.line_items:
                raise LineItemNotFoundException()
            self.store.scores.append((line_item_id, dict(score)))
        return UpdateScoreStatus.SUCCESS

    def get_results(self, line_item_id: str, page: int = 1, limit: int | None = None,
                    user_id: str | None = None) -> TPage:
        return {"content": [], "has_next": False}


class Roster(NamesRoleProvisioningService):
    """lti1p3platform's own NRPS handler: it checks the token's scope; this keeps the roster in memory."""

    def __init__(self, store: AgsStore, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.store = store

    def get_member_data_page(self, page: int = 1, limit: int | None = None, role: str | None = None,
                             since: str | None = None) -> TPage:
        with self.store.lock:
            self.store.roster_reads.append({"role": role or "", "limit": str(limit or "")})
            members = [dict(m) for m in self.store.members
                       if role is None or any(r == role or r.endswith("#" + role) for r in m["roles"])]
        return {"content": members, "has_next": False}

    def get_context_by_id(self) -> Context:
        return Context(id="tp-course-1", label="MATH-6", title="Ratios and Rates")


def _http(answer: LtiResponse, *, listing: bool = False) -> Response:
    headers: dict[str, str] = {}
    result = answer.result
    if listing and isinstance(result, dict):
        if result.get("next"):
            headers["Link"] = generate_next_link(result["next"])
        result = result["content"]
    body = json.dumps(result) if result is not None else ""
    return Response(body, status=answer.code, mimetype=answer.media_type, headers=headers)


def add_ags(app: Flask, platform: ThirdPartyPlatform, store: AgsStore) -> None:
    def service() -> Service:
        conf = platform.conf()
        conf.get_registration()
        return Service(store, FlaskRequest(request), conf, store.lineitems_url)

    @app.route("/lineitems", methods=["GET", "POST"])
    def line_items() -> Response:
        ags = service()
        if request.method == "POST":
            return _http(ags.handle_resp(ags.handle_create_lineitem))
        return _http(ags.handle_resp(ags.handle_get_lineitems), listing=True)

    @app.route("/lineitems/<item_id>", methods=["GET", "PUT", "DELETE"])
    def line_item(item_id: str) -> Response:
        ags = service()
        handler = {"GET": ags.handle_get_lineitem, "PUT": ags.handle_update_lineitem,
                   "DELETE": ags.handle_delete_lineitem}[request.method]
        return _http(ags.handle_resp(handler, line_item_id=item_id))

    @app.get("/memberships")
    def memberships() -> Response:
        conf = platform.conf()
        conf.get_registration()
        nrps = Roster(store, FlaskRequest(request), conf, platform.url + "/memberships")
        return _http(nrps.handle_resp(nrps.handle_get_members))

    @app.post("/lineitems/<item_id>/scores")
    def scores(item_id: str) -> Response:
        ags = service()
        return _http(ags.handle_resp(ags.handle_update_score, line_item_id=item_id))


@contextlib.contextmanager
def serve_thirdparty_with_ags() -> Iterator[tuple[ThirdPartyPlatform, AgsStore]]:
    server = LiveServer(lambda environ, start_response: None)
    platform = ThirdPartyPlatform(server)
    store = AgsStore(platform.url + "/lineitems")
    app = create_app(platform)
    add_ags(app, platform, store)
    server.set_app(app)
    server.start()
    try:
        yield platform, store
    finally:
        server.stop()
