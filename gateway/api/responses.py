"""Response shapes the API toolkit shares: a page of a list, and headers that keep a response out of caches."""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import urlencode

from flask import Response, request
from werkzeug.wrappers import Response as BaseResponse

from gateway.api.cursor import Page
from gateway.web import json_response

__all__ = ["Page", "no_referrer", "no_store", "page_response"]

R = TypeVar("R", bound=BaseResponse)


def page_response(page: Page) -> Response:
    """``{"data": [...], "next_cursor": ...}``, with ``Link: <...>; rel="next"`` when there is a next page.

    The next link repeats the request's query with only the cursor changed, so filters and ``limit`` carry on.
    """
    headers: dict[str, str] = {}
    if page.next_cursor:
        pairs = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"] + [("cursor", page.next_cursor)]
        headers["Link"] = f'<{request.base_url}?{urlencode(pairs)}>; rel="next"'
    return json_response({"data": page.data, "next_cursor": page.next_cursor}, headers=headers)


def no_store(response: R) -> R:
    """Never cached: pages and redirects that carry one-time codes, states or tokens. Usable as ``after_request``."""
    response.headers["Cache-Control"] = "no-store"
    return response


def no_referrer(response: R) -> R:
    """The URL carries a one-time code or token: keep it out of the next site's ``Referer``."""
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
