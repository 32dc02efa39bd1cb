"""The simulated platform's token, AGS and NRPS endpoints behave as the specs say (writeback relies on them)."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

import pytest
import requests

from gateway.lti import claims as c
from sandbox.lms.ags import LINEITEM, LINEITEM_CONTAINER, MEMBERSHIP_CONTAINER, RESULT_CONTAINER, SCORE
from tests.support.lti_sandbox import LtiWorld

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _assertion(world: LtiWorld, **changes: Any) -> str:
    now = int(time.time())
    claims = {"iss": world.platform.client_id, "sub": world.platform.client_id, "aud": world.platform.token_url,
              "iat": now, "exp": now + 60, "jti": uuid.uuid4().hex, **changes}
    return world.gateway.services.keyring.signing_key().sign(claims)


def _token_request(world: LtiWorld, scope: str, assertion: str | None = None,
                   grant_type: str = "client_credentials") -> requests.Response:
    return requests.post(world.platform.token_url, data={
        "grant_type": grant_type, "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion or _assertion(world), "scope": scope}, timeout=10)


def _token(world: LtiWorld, *scopes: str) -> dict[str, str]:
    response = _token_request(world, " ".join(scopes or c.AGS_SCOPES))
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _line_item(world: LtiWorld, auth: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"label": "Quiz", "scoreMaximum": 10, "resourceId": "quiz-1", "tag": "quiz", **fields}
    response = requests.post(world.platform.lineitems_url, json=body, timeout=10,
                             headers={**auth, "Content-Type": LINEITEM})
    assert response.status_code == 201, response.text
    assert response.headers["Content-Type"] == LINEITEM
    item: dict[str, Any] = response.json()
    return item


def _score(world: LtiWorld, auth: dict[str, str], item: dict[str, Any], *, media: str = SCORE,
           **fields: Any) -> requests.Response:
    url = item["id"].split("?")[0] + "/scores" + (("?" + item["id"].split("?")[1]) if "?" in item["id"] else "")
    body = {"userId": "student-1", "scoreGiven": 7, "scoreMaximum": 10, "activityProgress": "Completed",
            "gradingProgress": "FullyGraded", "timestamp": dt.datetime.now(dt.UTC).isoformat(), **fields}
    return requests.post(url, json=body, headers={**auth, "Content-Type": media}, timeout=10)


def test_token_endpoint_grants_requested_scopes_to_a_signed_assertion(world: LtiWorld) -> None:
    response = _token_request(world, f"{c.AGS_SCOPE_SCORE} https://example.com/unknown-scope")
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["scope"] == c.AGS_SCOPE_SCORE
    assert world.platform.requests_of("token")[-1].body["grant_type"] == "client_credentials"


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"aud": "https://elsewhere.example.com/token"}, 401, "invalid_client"),
        ({"iss": "someone-else"}, 401, "invalid_client"),
        ({"exp": 1}, 401, "invalid_client"),
    ],
    ids=["aud", "iss", "expired"],
)
def test_token_endpoint_refuses_bad_assertions(world: LtiWorld, change: dict[str, Any], status: int,
                                               error: str) -> None:
    response = _token_request(world, c.AGS_SCOPE_SCORE, _assertion(world, **change))
    assert (response.status_code, response.json()["error"]) == (status, error)


def test_token_endpoint_refuses_replays_grants_and_scopes(world: LtiWorld) -> None:
    assertion = _assertion(world)
    assert _token_request(world, c.AGS_SCOPE_SCORE, assertion).status_code == 200
    assert _token_request(world, c.AGS_SCOPE_SCORE, assertion).json()["error"] == "invalid_grant"
    assert _token_request(world, c.AGS_SCOPE_SCORE, grant_type="password").json()["error"] == "unsupported_grant_type"
    assert _token_request(world, "https://example.com/nothing").json()["error"] == "invalid_scope"


def test_brightspace_style_token_audience(world: LtiWorld) -> None:
    world.platform.token_audience_override = "https://auth.example.com/core/connect/token"
    assert _token_request(world, c.AGS_SCOPE_SCORE).status_code == 401
    good = _assertion(world, aud="https://auth.example.com/core/connect/token")
    assert _token_request(world, c.AGS_SCOPE_SCORE, good).status_code == 200


def test_line_items_need_the_right_token_scope_and_media_type(world: LtiWorld) -> None:
    url = world.platform.lineitems_url
    body = {"label": "Quiz", "scoreMaximum": 10}
    assert requests.post(url, json=body, headers={"Content-Type": LINEITEM}, timeout=10).status_code == 401
    read_only = _token(world, c.AGS_SCOPE_LINEITEM_READONLY)
    assert requests.post(url, json=body, headers={**read_only, "Content-Type": LINEITEM}, timeout=10).status_code == 403
    auth = _token(world)
    assert requests.post(url, json=body, headers=auth, timeout=10).status_code == 415  # application/json
    no_max = requests.post(url, json={"label": "Quiz"}, headers={**auth, "Content-Type": LINEITEM}, timeout=10)
    assert no_max.status_code == 400
    assert requests.get(url, headers=read_only, timeout=10).status_code == 200


def test_line_item_lifecycle_with_paging_and_filters(world: LtiWorld) -> None:
    auth = _token(world)
    first = _line_item(world, auth, tag="quiz")
    _line_item(world, auth, tag="homework", resourceId="hw-1")
    page = requests.get(world.platform.lineitems_url, params={"limit": "1"}, headers=auth, timeout=10)
    assert page.headers["Content-Type"] == LINEITEM_CONTAINER and len(page.json()) == 1
    assert page.links["next"]["url"].endswith("limit=1&page=2") and 'rel="next"' in page.headers["Link"]
    world.platform.unquoted_link_rel = True
    unquoted = requests.get(world.platform.lineitems_url, params={"limit": "1"}, headers=auth, timeout=10)
    assert unquoted.headers["Link"].endswith("; rel=next")
    tagged = requests.get(world.platform.lineitems_url, params={"tag": "homework"}, headers=auth, timeout=10).json()
    assert [i["resourceId"] for i in tagged] == ["hw-1"]
    updated = requests.put(first["id"], json={**first, "label": "Quiz 1", "scoreMaximum": 20}, timeout=10,
                           headers={**auth, "Content-Type": LINEITEM})
    assert updated.status_code == 200 and updated.json()["scoreMaximum"] == 20
    assert requests.get(first["id"], headers=auth, timeout=10).json()["label"] == "Quiz 1"
    assert requests.delete(first["id"], headers=auth, timeout=10).status_code == 204
    assert requests.get(first["id"], headers=auth, timeout=10).status_code == 404


def test_scores_follow_the_ags_rules(world: LtiWorld) -> None:
    world.platform.lineitem_url_query = True  # tools must keep a line item URL's query when adding /scores
    auth = _token(world)
    item = _line_item(world, auth)
    assert "?type=grade" in item["id"]
    assert _score(world, auth, item, media="application/vnd.ims.lis.v2.score+json").status_code == 415
    assert _score(world, auth, item, scoreMaximum=None).status_code == 400
    assert _score(world, auth, item, gradingProgress="Done").status_code == 400
    assert _score(world, auth, item, userId="teacher-1").status_code == 422
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    assert _score(world, auth, item, scoreGiven=9, timestamp=later.isoformat()).status_code == 200
    older = _score(world, auth, item, scoreGiven=3, timestamp=(later - dt.timedelta(seconds=1)).isoformat())
    assert older.status_code == 409
    recorded = world.platform.requests_of("ags")[-1]
    assert recorded.headers["Content-Type"] == SCORE and recorded.body["scoreGiven"] == 3
    results = requests.get(item["id"].split("?")[0] + "/results", headers=auth, timeout=10)
    assert results.headers["Content-Type"] == RESULT_CONTAINER
    assert [(r["userId"], r["resultScore"], r["resultMaximum"]) for r in results.json()] == [("student-1", 9, 10)]


def test_score_without_score_scope_is_forbidden(world: LtiWorld) -> None:
    item = _line_item(world, _token(world))
    assert _score(world, _token(world, c.AGS_SCOPE_LINEITEM), item).status_code == 403


def test_injected_failures_answer_once_with_their_headers(world: LtiWorld) -> None:
    auth = _token(world)
    item = _line_item(world, auth)
    world.platform.fail_next("/scores", 429, headers={"Retry-After": "2"})
    limited = _score(world, auth, item)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert _score(world, auth, item).status_code == 200


def test_memberships_are_served_with_the_nrps_media_type(world: LtiWorld) -> None:
    auth = _token(world, c.NRPS_SCOPE)
    response = requests.get(world.platform.memberships_url, params={"limit": "2"}, headers=auth, timeout=10)
    assert response.headers["Content-Type"] == MEMBERSHIP_CONTAINER
    body = response.json()
    assert body["context"]["id"] == "course-1" and len(body["members"]) == 2 and "next" in response.links
