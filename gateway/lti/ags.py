"""The LTI Assignment and Grade Services 2.0 client (https://www.imsglobal.org/spec/lti-ags/v2p0/): the wire.

Facts from the spec and Canvas's Score API docs. A line item lives in the context's line items container: listed
(``GET`` with filters, every page followed), created (``POST``), updated (``PUT``) and deleted (``DELETE``).
A score is POSTed to ``{line item}/scores`` (the line item URL's query string kept) with
``application/vnd.ims.lis.v1.score+json``; ``scoreMaximum`` always travels with ``scoreGiven``, and
``timestamp`` is the grade's event time, so the LMS keeps the newest. Lists page with
``Link: <...>; rel="next"`` (``rel`` quoted or bare, as lti1p3platform sends it). Names and Roles (NRPS 2.0)
membership pages are read here too, with the same tokens (scope ``contextmembership.readonly``). Every call carries a
token from :class:`~gateway.lti.ags_token.AgsTokens`, fetched again once after a 401.

Plain values in, plain values out, no Flask and no idea of an outbox: an answer other than 2xx is an
:class:`AgsAnswerError` holding the response, no answer at all is an :class:`AgsNoAnswer`, and a token that
cannot be had is :class:`~gateway.lti.ags_token.TokenUnavailable`. What each means (retry, give up, skip) is
the caller's to say.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import requests

from gateway.http import HttpClient, OutboundError
from gateway.lti.ags_token import AgsTokens, TokenTarget

SYSTEM: Final = "ags"
LINEITEM: Final = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEM_CONTAINER: Final = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE: Final = "application/vnd.ims.lis.v1.score+json"
MEMBERSHIP_CONTAINER: Final = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
MAX_PAGES: Final = 50
PAGE_LIMIT: Final = "100"
_LINK_VALUE = re.compile(r"<([^>]*)>([^<]*)")


class AgsAnswerError(Exception):
    """The platform answered, but not 2xx (or not what the spec says). ``response`` is its answer."""

    def __init__(self, response: requests.Response, message: str | None = None) -> None:
        super().__init__(message or f"the platform answered {response.status_code}")
        self.response = response
        self.status = response.status_code
        self.message = message


class AgsUrlRefused(Exception):
    """A URL the platform handed over is not one the gateway will send its token to (``AGS_URL_NOT_ALLOWED``).

    Trusted as far as the registration says: an AGS endpoint from the platform's signed launch, over https in
    production and there on the registration's token host or a public address; a ``next`` link or a line item
    id from an answer only on the origin of the container it came from. The delivery fails with this reason
    (retrying cannot fix it).
    """

    code: Final = "AGS_URL_NOT_ALLOWED"

    def __init__(self, url: str, why: str) -> None:
        parts = urlsplit(url)
        super().__init__(f"{self.code}: {parts.scheme}://{parts.netloc}{parts.path[:120]} {why}")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = None
    return parts.scheme, (parts.hostname or "").lower(), port


class AgsNoAnswer(Exception):
    """No answer arrived (timeout, refused or reset connection, TLS)."""

    def __init__(self, outbound: OutboundError) -> None:
        super().__init__(str(outbound))
        self.outbound = outbound


# -- pure helpers ------------------------------------------------------------------------------------------


def next_link(header: str | None, rel: str = "next") -> str | None:
    """The target of ``rel="next"`` (or another ``rel``) in a ``Link`` header (RFC 8288), quoted or bare."""
    if not header:
        return None
    for match in _LINK_VALUE.finditer(header):
        for param in match.group(2).strip().strip(",").split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "rel" and rel in value.strip().strip('"').lower().split():
                return match.group(1).strip()
    return None


def same_origin(url: str, of: str) -> bool:
    """Whether ``url`` has the scheme and host of ``of``: a platform's paging links stay on its own service."""
    a, b = urlsplit(url), urlsplit(of)
    return a.scheme in ("https", "http") and (a.scheme, a.netloc.lower()) == (b.scheme, b.netloc.lower())


@dataclass(frozen=True)
class MembershipPage:
    """One page of a Names and Roles membership container, with its ``next`` and ``differences`` links."""

    members: list[dict[str, Any]]
    next_url: str | None
    differences_url: str | None


def scores_url(line_item_url: str) -> str:
    """``{line item}/scores``, keeping the line item URL's query string (Moodle puts its type id there)."""
    parts = urlsplit(line_item_url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/scores", parts.query, ""))


def timestamp(value: dt.datetime) -> str:
    """ISO 8601 with milliseconds, as the spec asks ("should use subsecond precision")."""
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def line_item(*, assignment_id: str, title: str, points: float, tag: str | None, resource_link_lms_id: str | None,
              due_at: dt.datetime | None) -> dict[str, Any]:
    """The line item of an assignment. ``resourceId`` is the gateway's own assignment id, so it never collides."""
    item: dict[str, Any] = {"label": title, "scoreMaximum": points, "resourceId": assignment_id}
    if tag:
        item["tag"] = tag
    if resource_link_lms_id:
        item["resourceLinkId"] = resource_link_lms_id
    if due_at is not None:
        item["endDateTime"] = timestamp(due_at)
    return item


def score(*, sub: str, score_given: float | None, score_maximum: float | None, comment: str | None,
          activity_progress: str, grading_progress: str, submitted_at: dt.datetime | None,
          started_at: dt.datetime | None) -> dict[str, Any]:
    """A score without its ``timestamp`` (the sender adds the grade's event time)."""
    body: dict[str, Any] = {"userId": sub, "activityProgress": activity_progress, "gradingProgress": grading_progress}
    if score_given is not None:
        body["scoreGiven"] = score_given
        body["scoreMaximum"] = score_maximum
    if comment is not None:
        body["comment"] = comment
    submission = {name: timestamp(value) for name, value in (("startedAt", started_at), ("submittedAt", submitted_at))
                  if value is not None}
    if submission:
        body["submission"] = submission
    return body


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


# -- the client --------------------------------------------------------------------------------------------


class AgsClient:
    """Calls to one platform's AGS endpoints with a registration's token (``target``), each with ``timeout``."""

    def __init__(self, http: HttpClient, tokens: AgsTokens, *, timeout: float,
                 on_token_refresh: Callable[[], None] | None = None, production: bool = False) -> None:
        # In production every AGS URL must be https and is called only on public addresses (the one checked).
        self._production = production
        self._http = http
        self._tokens = tokens
        self._timeout = timeout
        self._on_refresh = on_token_refresh or (lambda: None)

    def call(self, target: TokenTarget, method: str, url: str, *, accept: str, content_type: str | None = None,
             body: Any = None, params: dict[str, str] | None = None) -> requests.Response:
        """One call with the token; a 401 drops the token and the call is sent once more with a new one."""
        self._check_url(url)
        for attempt in (1, 2):
            token = self._tokens.token(target)
            headers = {"Authorization": f"Bearer {token}", "Accept": accept}
            kwargs: dict[str, Any] = {"headers": headers, "timeout": self._timeout, "allow_redirects": False,
                                      "public_only": self._public_only(url, target)}
            if content_type is not None:
                headers["Content-Type"] = content_type
                kwargs["data"] = json.dumps(body, allow_nan=False)
            if params:
                kwargs["params"] = params
            try:
                response = self._http.request(SYSTEM, method, url, **kwargs)
            except OutboundError as e:
                if e.reason == "address_not_allowed":
                    raise AgsUrlRefused(url, "resolves to an address that is not public") from e
                raise AgsNoAnswer(e) from e
            if response.status_code == 401 and attempt == 1:
                self._tokens.invalidate(target, token)
                self._on_refresh()
                continue
            return response
        raise AssertionError("unreachable: the second attempt always returns")

    def _public_only(self, url: str, target: TokenTarget) -> bool:
        """In production an AGS URL on the registration's own token host is trusted as the registration is (an
        LMS on a private network, registered by hand); any other host must be public, checked at connection."""
        if not self._production:
            return False
        return (urlsplit(url).hostname or "").lower() != (urlsplit(target.token_url).hostname or "").lower()

    def _check_url(self, url: str) -> None:
        parts = urlsplit(url)
        allowed = ("https",) if self._production else ("https", "http")
        if parts.scheme not in allowed or not parts.hostname:
            raise AgsUrlRefused(url, "is not an absolute " + " or ".join(allowed) + " URL")
        if parts.username or parts.password:
            raise AgsUrlRefused(url, "carries credentials")

    @staticmethod
    def _same_origin(url: str, of: str, what: str) -> None:
        if _origin(url) != _origin(of):
            raise AgsUrlRefused(url, f"({what}) is not on the line items container's origin")

    def _ok(self, response: requests.Response, message: str | None = None) -> requests.Response:
        if not 200 <= response.status_code <= 299:
            raise AgsAnswerError(response, message)
        return response

    # -- line items -----------------------------------------------------------------------------------------

    def find_line_items(self, target: TokenTarget, lineitems_url: str,
                        filters: dict[str, str]) -> list[dict[str, Any]]:
        """Line items of the container matching ``filters`` (``resource_id``, ``resource_link_id``, ``tag``),
        every page followed (at most :data:`MAX_PAGES`)."""
        found: list[dict[str, Any]] = []
        url: str | None = lineitems_url
        query: dict[str, str] | None = {**filters, "limit": PAGE_LIMIT}
        for _ in range(MAX_PAGES):
            if url is None:
                break
            response = self.call(target, "GET", url, accept=LINEITEM_CONTAINER, params=query)
            self._ok(response, f"listing line items: remote answered {response.status_code}")
            page = _json(response)
            if not isinstance(page, list):
                raise AgsAnswerError(response, "the LMS's line item list is not a JSON array")
            for item in page:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    self._same_origin(item["id"], lineitems_url, "a line item id")
                    found.append(item)
            url, query = next_link(response.headers.get("Link")), None
            if url is not None:
                self._same_origin(url, lineitems_url, "a next link")
        return found

    def create_line_item(self, target: TokenTarget, lineitems_url: str,
                         item: dict[str, Any]) -> tuple[str, requests.Response]:
        """The new line item's URL (its ``id``) and the platform's answer."""
        response = self._ok(self.call(target, "POST", lineitems_url, accept=LINEITEM, content_type=LINEITEM,
                                      body=item))
        made = _json(response)
        remote_id = made.get("id") if isinstance(made, dict) else None
        if not isinstance(remote_id, str) or not remote_id:
            raise AgsAnswerError(response, "the LMS created a line item but its answer has no id")
        self._same_origin(remote_id, lineitems_url, "the new line item's id")
        return remote_id, response

    def get_line_item(self, target: TokenTarget, url: str) -> dict[str, Any]:
        """The line item as the platform holds it."""
        response = self._ok(self.call(target, "GET", url, accept=LINEITEM))
        item = _json(response)
        if not isinstance(item, dict):
            raise AgsAnswerError(response, "the LMS's line item is not a JSON object")
        return item

    def update_line_item(self, target: TokenTarget, url: str, item: dict[str, Any]) -> requests.Response:
        return self._ok(self.call(target, "PUT", url, accept=LINEITEM, content_type=LINEITEM,
                                  body={**item, "id": url}))

    def delete_line_item(self, target: TokenTarget, url: str) -> requests.Response:
        return self._ok(self.call(target, "DELETE", url, accept="application/json"))

    # -- names and roles (NRPS 2.0, https://www.imsglobal.org/spec/lti-nrps/v2p0/) ------------------------------

    def membership_page(self, target: TokenTarget, url: str, params: dict[str, str] | None = None,
                        *, origin: str | None = None) -> MembershipPage:
        """One page of the course's members; its ``next`` and ``differences`` links are kept only when they stay on
        ``origin``'s host (the memberships URL the launch named): the token must not travel elsewhere."""
        response = self._ok(self.call(target, "GET", url, accept=MEMBERSHIP_CONTAINER, params=params))
        body = _json(response)
        members = body.get("members") if isinstance(body, dict) else None
        if not isinstance(members, list):
            raise AgsAnswerError(response, "the LMS's membership container has no members array")
        found = [m for m in members if isinstance(m, dict) and isinstance(m.get("user_id"), str) and m["user_id"]]
        links = response.headers.get("Link")
        following = [next_link(links, rel) for rel in ("next", "differences")]
        kept = [u if u and same_origin(u, origin or url) else None for u in following]
        return MembershipPage(found, kept[0], kept[1])

    # -- scores ---------------------------------------------------------------------------------------------

    def post_score(self, target: TokenTarget, line_item_url: str, body: dict[str, Any],
                   at: dt.datetime) -> requests.Response:
        """POST a score with ``at`` (the grade's event time) as its ``timestamp``."""
        return self._ok(self.call(target, "POST", scores_url(line_item_url), accept="application/json",
                                  content_type=SCORE, body={**body, "timestamp": timestamp(at)}))
