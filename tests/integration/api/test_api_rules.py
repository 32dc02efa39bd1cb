"""The same mistake gets the same answer on every vendor and admin route (README, "The vendor API").

A bad ``limit`` or flag, or a body that is not a JSON object, is ``422 VALIDATION_FAILED`` naming the field; a
cursor the gateway did not hand out for that list, including one handed out by another list, is
``400 INVALID_CURSOR``. Every list answers ``{data, next_cursor}`` and a ``Link`` header while there is more.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from gateway.store.models.lti import LtiContextRow
from tests.support.databases import DatabaseFactory
from tests.support.gateway import GatewayUnderTest, start_gateway

CANVAS = {"preset": "canvas", "client_id": "10000000000042", "deployment_ids": ["42:abc"]}


@dataclass
class Api:
    gateway: GatewayUnderTest
    session: requests.Session
    context_id: str
    lti_cursor: str

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.gateway.url + path, timeout=10, **kwargs)


@pytest.fixture(scope="module")
def api(db_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One gateway with two LMS registrations (so their list has a second page) and one LTI course."""
    gateway = start_gateway(db_factory.sqlite_url(), tmp_path_factory.mktemp("keys"))
    try:
        session = gateway.api("admin", "writeback", "roster", "launches")
        for n in range(2):
            made = session.post(f"{gateway.url}/api/v1/admin/lti/registrations", timeout=10,
                                json={**CANVAS, "client_id": f"1000{n}"})
            assert made.status_code == 201, made.text
        first = session.get(f"{gateway.url}/api/v1/admin/lti/registrations?limit=1", timeout=10).json()
        deployment = session.get(f"{gateway.url}/api/v1/admin/lti/deployments", timeout=10).json()["data"][0]
        with gateway.services.db.transaction() as s:
            s.add(LtiContextRow(id="ctx_rules", registration_id=deployment["registration_id"],
                                deployment_ref=deployment["id"], context_id="course", types=[], ags_scopes=[]))
        yield Api(gateway, session, "ctx_rules", first["next_cursor"])
    finally:
        gateway.close()
    gateway.contract.assert_clean()


# Every list route, with the flag it takes (if any). Unknown district and section ids are fine: a list checks its
# parameters and its cursor before it looks anything up.
LISTS = [
    ("/api/v1/clever/districts", None),
    ("/api/v1/clever/districts/unknown/sections", "include_archived"),
    ("/api/v1/clever/sections/unknown/users", "include_archived"),
    ("/api/v1/admin/identity/conflicts", None),
    ("/api/v1/admin/identity/unmatched", None),
    ("/api/v1/admin/lti/registrations", None),
    ("/api/v1/admin/lti/deployments", None),
    ("/api/v1/deliveries", None),
    ("/api/v1/contexts/{context}/assignments", "include_deleted"),
]
LIST_IDS = [path.removeprefix("/api/v1/") for path, _ in LISTS]

# Routes that take a JSON object body. Unknown ids are fine here: the body is read first. Not here: the routes
# under an assignment, which find the assignment first (404 whatever the body; tests/integration/writeback).
BODIES = [
    ("POST", "/api/v1/launches/redeem"),
    ("POST", "/api/v1/launches/lch_unknown/deep-link-response"),
    ("POST", "/api/v1/contexts/{context}/assignments"),
    ("POST", "/api/v1/deliveries/replay"),
    ("POST", "/api/v1/clever/districts/unknown/sync"),
    ("POST", "/api/v1/admin/lti/registrations"),
    ("PATCH", "/api/v1/admin/lti/registrations/reg_unknown"),
    ("POST", "/api/v1/admin/lti/registrations/reg_unknown/deployments"),
    ("POST", "/api/v1/admin/identity/lti-identities/lid_unknown/link"),
    ("POST", "/api/v1/admin/identity/lti-identities/lid_unknown/unlink"),
    ("POST", "/api/v1/admin/identity/conflicts/idc_unknown/resolve"),
    ("PUT", "/api/v1/admin/identity/deployments/dep_unknown/district"),
    ("PATCH", "/api/v1/admin/identity/registrations/reg_unknown/rules"),
]


def _problem(response: requests.Response) -> tuple[int, str, list[str]]:
    assert response.headers["Content-Type"] == "application/problem+json", response.text
    body = response.json()
    return response.status_code, body["code"], [e["field"] for e in body.get("errors", [])]


@pytest.mark.parametrize(("path", "flag"), LISTS, ids=LIST_IDS)
@pytest.mark.parametrize("limit", ["0", "-1", "ten", "100000", "\u00b2", "\uff11\uff10"])
def test_a_bad_limit_is_the_same_refusal_on_every_list(api: Api, path: str, flag: str | None, limit: str) -> None:
    response = api.call("GET", path.format(context=api.context_id), params={"limit": limit})
    assert _problem(response) == (422, "VALIDATION_FAILED", ["limit"])


FLAGGED = [(path, flag) for path, flag in LISTS if flag]


@pytest.mark.parametrize(("path", "flag"), FLAGGED, ids=[path.removeprefix("/api/v1/") for path, _ in FLAGGED])
def test_a_bad_flag_is_the_same_refusal_on_every_list(api: Api, path: str, flag: str) -> None:
    response = api.call("GET", path.format(context=api.context_id), params={flag: "yes"})
    assert _problem(response) == (422, "VALIDATION_FAILED", [flag])


@pytest.mark.parametrize(("path", "flag"), LISTS, ids=LIST_IDS)
@pytest.mark.parametrize("cursor", ["garbage", "!!", "WyJyZWdfMSJd"], ids=["garbage", "not-base64", "old-shape"])
def test_a_made_up_cursor_is_the_same_refusal_on_every_list(api: Api, path: str, flag: str | None,
                                                            cursor: str) -> None:
    response = api.call("GET", path.format(context=api.context_id), params={"cursor": cursor})
    assert _problem(response) == (400, "INVALID_CURSOR", [])


@pytest.mark.parametrize(("path", "flag"), LISTS, ids=LIST_IDS)
def test_a_cursor_is_good_only_on_the_list_that_made_it(api: Api, path: str, flag: str | None) -> None:
    response = api.call("GET", path.format(context=api.context_id), params={"cursor": api.lti_cursor})
    if path == "/api/v1/admin/lti/registrations":
        assert response.status_code == 200 and len(response.json()["data"]) == 1
    else:
        assert _problem(response) == (400, "INVALID_CURSOR", [])


@pytest.mark.parametrize(("method", "path"), BODIES, ids=[f"{m} {p.removeprefix('/api/v1/')}" for m, p in BODIES])
@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "not json"], ids=["array", "string", "not-json"])
def test_a_body_that_is_not_a_json_object_is_the_same_refusal_everywhere(api: Api, method: str, path: str,
                                                                          body: str) -> None:
    response = api.call(method, path.format(context=api.context_id), data=body,
                        headers={"Content-Type": "application/json"})
    assert _problem(response) == (422, "VALIDATION_FAILED", ["body"])


def test_a_page_links_to_the_next_with_the_same_query(api: Api) -> None:
    response = api.call("GET", "/api/v1/admin/lti/registrations", params={"limit": 1, "status": "active"})
    body = response.json()
    assert body["next_cursor"] and len(body["data"]) == 1
    following = urlsplit(response.links["next"]["url"])
    assert following.path == "/api/v1/admin/lti/registrations"
    assert sorted(parse_qsl(following.query)) == [("cursor", body["next_cursor"]), ("limit", "1"), ("status", "active")]
    last = api.call("GET", response.links["next"]["url"].removeprefix(api.gateway.url))
    assert last.json()["next_cursor"] is None and "Link" not in last.headers
