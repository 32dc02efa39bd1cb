"""Deep Linking: a request hands off like a launch; the vendor's items come back signed and reach the platform."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
import requests

from gateway.lti import claims as c
from sandbox.lms import LaunchIntent
from tests.support.lti_flow import launch, parse_page
from tests.support.lti_sandbox import LtiWorld

QUIZ = {"type": "ltiResourceLink", "title": "Fractions quiz", "custom": {"activity": "quiz-42"},
        "lineItem": {"scoreMaximum": 10, "label": "Fractions quiz", "resourceId": "quiz-42", "tag": "quiz"}}
LINK = {"type": "link", "title": "Explainer", "url": "https://example.com/fractions"}
HTML = {"type": "html", "html": "<p>1/2 + 1/4?</p>"}


def _dl_launch(world: LtiWorld) -> tuple[requests.Session, dict[str, Any]]:
    """A deep-linking launch with the simulated platform's full settings (every type, data, multiple)."""
    result = launch(world.browser(), world.platform.prepare(LaunchIntent(message_type=c.DEEP_LINKING_REQUEST)))
    api = world.gateway.api("launches")
    record: dict[str, Any] = api.post(f"{world.gateway.url}/api/v1/launches/redeem", json={"code": result.code},
                                      timeout=10).json()
    return api, record


def _dl_launch_with(world: LtiWorld, **settings: Any) -> tuple[requests.Session, dict[str, Any]]:
    base = {"deep_link_return_url": world.platform.deep_link_return_url, "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["iframe"]}
    intent = LaunchIntent(message_type=c.DEEP_LINKING_REQUEST, extra_claims={c.DL_SETTINGS: {**base, **settings}})
    result = launch(world.browser(), world.platform.prepare(intent))
    assert result.code, result.error_code
    api = world.gateway.api("launches")
    record: dict[str, Any] = api.post(f"{world.gateway.url}/api/v1/launches/redeem", json={"code": result.code},
                                      timeout=10).json()
    return api, record


def _respond(world: LtiWorld, api: requests.Session, record: dict[str, Any], body: Any) -> requests.Response:
    return api.post(world.gateway.url + record["deep_linking"]["response_url"], json=body, timeout=10)


def test_items_are_signed_and_the_platform_accepts_them(world: LtiWorld) -> None:
    api, record = _dl_launch(world)
    response = _respond(world, api, record, {"content_items": [QUIZ, LINK, HTML], "message": "Added 3 items"})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["return_url"] == world.platform.deep_link_return_url
    form = parse_page(answer["form_html"])
    assert form.action == world.platform.deep_link_return_url and form.fields["JWT"] == answer["jwt"]

    jwks = jwt.PyJWKClient(world.gateway.url + "/.well-known/jwks.json")
    claims = jwt.decode(answer["jwt"], jwks.get_signing_key_from_jwt(answer["jwt"]).key, algorithms=["RS256"],
                        audience=world.platform.issuer)
    assert claims["iss"] == world.platform.client_id and claims["aud"] == [world.platform.issuer]
    assert claims[c.MESSAGE_TYPE] == c.DEEP_LINKING_RESPONSE and claims[c.VERSION] == c.LTI_VERSION
    assert claims[c.DEPLOYMENT_ID] == world.platform.deployment_id
    assert claims[c.DL_CONTENT_ITEMS] == [QUIZ, LINK, HTML]
    assert claims[c.DL_DATA].startswith("sandbox-dl-") and claims[c.DL_MSG] == "Added 3 items"
    assert claims["nonce"] and claims["exp"] > claims["iat"]

    posted = requests.post(answer["return_url"], data={"JWT": answer["jwt"]}, timeout=10)  # what the browser does
    assert posted.status_code == 200, posted.text
    assert world.platform.deep_link_returns[-1]["items"] == [QUIZ, LINK, HTML]


def test_no_data_is_echoed_when_the_platform_sent_none(world: LtiWorld) -> None:
    api, record = _dl_launch_with(world, accept_multiple=True)
    answer = _respond(world, api, record, {"content_items": []}).json()
    assert c.DL_DATA not in jwt.decode(answer["jwt"], options={"verify_signature": False})


@pytest.mark.parametrize(
    ("settings", "items", "status", "code"),
    [
        ({}, [LINK], 422, "LTI_DEEP_LINK_TYPE_NOT_ACCEPTED"),
        ({"accept_multiple": False}, [QUIZ, QUIZ], 422, "LTI_DEEP_LINK_MULTIPLE_NOT_ACCEPTED"),
        ({}, [QUIZ, QUIZ], 422, "LTI_DEEP_LINK_MULTIPLE_NOT_ACCEPTED"),
        ({"accept_lineitem": False}, [QUIZ], 422, "LTI_DEEP_LINK_LINE_ITEM_NOT_ACCEPTED"),
        ({"accept_types": ["link"]}, [{"type": "link"}], 422, "VALIDATION_FAILED"),
        ({}, [{"type": "ltiResourceLink", "url": "https://elsewhere.example.com/launch"}], 422, "VALIDATION_FAILED"),
        ({}, [{**QUIZ, "lineItem": {"scoreMaximum": 0}}], 422, "VALIDATION_FAILED"),
        ({"accept_types": ["html"]}, [{"type": "html"}], 422, "VALIDATION_FAILED"),
        ({}, [{"type": "video", "url": "https://example.com"}], 422, "VALIDATION_FAILED"),
        ({}, [{**QUIZ, "surprise": 1}], 422, "VALIDATION_FAILED"),
    ],
    ids=["type", "multiple-false", "multiple-absent", "lineitem", "link-no-url", "foreign-url", "score-max-0",
         "html-missing", "unknown-type", "unknown-member"],
)
def test_items_the_platform_cannot_take_are_refused(
    world: LtiWorld, settings: dict[str, Any], items: list[dict[str, Any]], status: int, code: str
) -> None:
    api, record = _dl_launch_with(world, **settings)
    response = _respond(world, api, record, {"content_items": items})
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    if code == "VALIDATION_FAILED":
        assert response.json()["errors"][0]["field"].startswith("content_items[")


def test_platform_extension_members_pass_through(world: LtiWorld) -> None:
    api, record = _dl_launch_with(world)
    item = {**QUIZ, "https://canvas.instructure.com/lti/submission_type": {"type": "external_tool"}}
    assert _respond(world, api, record, {"content_items": [item]}).status_code == 200


def test_response_needs_a_deep_linking_launch_redeemed_by_this_key(world: LtiWorld) -> None:
    api, record = _dl_launch(world)
    url = world.gateway.url + record["deep_linking"]["response_url"]
    other = world.gateway.api("launches").post(url, json={"content_items": []}, timeout=10)
    assert (other.status_code, other.json()["code"]) == (404, "LAUNCH_NOT_FOUND")
    no_scope = world.gateway.api("roster").post(url, json={"content_items": []}, timeout=10)
    assert (no_scope.status_code, no_scope.json()["code"]) == (403, "INSUFFICIENT_SCOPE")
    not_json = api.post(url, data="items", timeout=10)
    assert (not_json.status_code, not_json.json()["code"]) == (422, "VALIDATION_FAILED")
    resource = launch(world.browser(), world.platform.prepare())
    plain = api.post(f"{world.gateway.url}/api/v1/launches/redeem", json={"code": resource.code}, timeout=10).json()
    refused = api.post(f"{world.gateway.url}/api/v1/launches/{plain['id']}/deep-link-response",
                       json={"content_items": []}, timeout=10)
    assert (refused.status_code, refused.json()["code"]) == (409, "LTI_LAUNCH_NOT_DEEP_LINKING")
