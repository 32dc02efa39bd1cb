"""``/lti/login``, ``/lti/launch``, ``POST /api/v1/launches/{id}/deep-link-response``: requests in, responses out."""

from __future__ import annotations

from flask import Blueprint, Response, request

from gateway.api.auth import current_api_key, require_scope
from gateway.api.params import json_object
from gateway.api.problems import render_error
from gateway.api.responses import no_store
from gateway.lti.errors import LtiError
from gateway.lti.login import LoginRequest
from gateway.lti.pages import launch_check_page, login_storage_page, new_window_html
from gateway.lti.service import LtiServices
from gateway.lti.state import STORAGE_KEY_PREFIX, cookie_name
from gateway.lti.validator import LaunchPost, StorageCheck
from gateway.web import json_response, services

bp = Blueprint("lti", __name__, url_prefix="/lti")
api_bp = Blueprint("lti_api", __name__, url_prefix="/api/v1/launches")
# Login and launch pages carry a state and an id_token for one browser.
bp.after_request(no_store)

COOKIE_PATH = "/lti/"


def _lti() -> LtiServices:
    return services(LtiServices)


@bp.errorhandler(LtiError)
def _refused(error: LtiError) -> Response:
    """A refused login or launch is counted, and offers a new window where third-party cookies were the cause."""
    _lti().metrics.refused(error.code)
    extra = new_window_html(error.retry_url) if error.new_window and error.retry_url else ""
    return render_error(error, extra)


@api_bp.errorhandler(LtiError)
def _api_refused(error: LtiError) -> Response:
    _lti().metrics.refused(error.code)
    return render_error(error)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    lti = _lti()
    started = lti.login.initiate(LoginRequest.from_params(request.values))
    if started.storage_target:
        page = login_storage_page(
            auth_url=started.auth_url,
            state=started.state,
            storage_target=started.storage_target,
            platform_origin=started.platform_origin,
            key=STORAGE_KEY_PREFIX + started.state,
        )
        response = Response(page, mimetype="text/html")
    else:
        response = Response(status=302, headers={"Location": started.auth_url})
    # Set even when platform storage is offered: where the partitioned cookie survives, it is enough.
    response.set_cookie(
        cookie_name(started.state),
        "1",
        max_age=lti.config.state_ttl_seconds,
        path=COOKIE_PATH,
        secure=True,
        httponly=True,
        samesite="None",
        partitioned=True,
    )
    return response


def _same_origin() -> bool:
    """The gateway's own check page posted this (browsers send Origin on POST; Sec-Fetch-Site where they don't)."""
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin == _lti().config.origin
    return request.headers.get("Sec-Fetch-Site") == "same-origin"


@bp.post("/launch")
def launch() -> Response:
    form = request.form
    post = LaunchPost(
        id_token=form.get("id_token"),
        state=form.get("state"),
        error=form.get("error"),
        error_description=form.get("error_description"),
        storage_target=form.get("lti_storage_target"),
        storage_check=form.get("lti_storage_check"),
        same_origin=_same_origin(),
        cookie_names=frozenset(request.cookies.keys()),
    )
    lti = _lti()
    result = lti.launches.launch(post)
    if isinstance(result, StorageCheck):
        page = launch_check_page(
            launch_url=lti.config.launch_url,
            id_token=result.id_token,
            state=result.state,
            storage_target=result.storage_target,
            platform_origin=result.platform_origin,
            key=STORAGE_KEY_PREFIX + result.state,
        )
        return Response(page, mimetype="text/html")
    response = Response(status=303, headers={"Location": result.redirect_url})
    response.delete_cookie(
        cookie_name(str(post.state)), path=COOKIE_PATH, secure=True, httponly=True, samesite="None", partitioned=True
    )
    return response


@api_bp.post("/<launch_id>/deep-link-response")
@require_scope("launches")
def deep_link_response(launch_id: str) -> Response:
    answer = _lti().deep_linking.respond(launch_id, current_api_key(), json_object())
    return json_response(answer)
