"""The one Clever client: OAuth, identity, Data API v3.1, Events, and (mixed in) LMS Connect.

Base URLs come from settings, so tests and the sandbox point them at the simulated Clever on loopback.
Every call goes through :class:`~gateway.clever.transport.CleverTransport` (timeouts, retries, rate limit).
Results are frozen dataclasses from :mod:`gateway.clever.types`; failures are ``CleverApiError`` subclasses.
:func:`build_client` is the one way to make a client, for login and sync as for LMS Connect writeback.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from gateway.clever.config import CleverConfig
from gateway.clever.errors import CleverBadRequest, CleverBadResponse, CleverInvalidGrant
from gateway.clever.lms import LmsConnectMixin
from gateway.clever.ratelimit import RateLimiter, TokenBudget
from gateway.clever.transport import Basic, Bearer, CleverTransport, RetryLimits
from gateway.clever.types import (
    CleverUser,
    District,
    DistrictToken,
    Event,
    Me,
    Page,
    School,
    Section,
    TokenGrant,
    UserInfo,
    next_link,
    unwrap_list,
    unwrap_one,
)
from gateway.http import HttpClient
from gateway.settings import Settings

T = TypeVar("T")

DATA_VERSION = "v3.1"
# Identity calls stay on v3.0: Clever documents the /me shape for v3.0 only.
IDENTITY_VERSION = "v3.0"
SYNC_RECORD_TYPES = ("districts", "schools", "users", "sections")


class CleverClient(LmsConnectMixin):
    def __init__(self, config: CleverConfig, transport: CleverTransport, *, lms_timeout: float) -> None:
        self._config = config
        self._transport = transport
        self._lms_timeout = lms_timeout

    @property
    def config(self) -> CleverConfig:
        return self._config

    def _basic(self) -> Basic:
        return Basic(self._config.client_id, self._config.client_secret)

    def _api(self, path: str) -> str:
        return self._config.api_base_url + path

    def _get(self, path: str, token: str, params: Any = None, *, interactive: bool = False) -> Any:
        return self._transport.send("GET", self._api(path), Bearer(token), params=params,
                                    interactive=interactive).body

    # -- OAuth ------------------------------------------------------------------------------------

    def authorize_url(self, *, state: str | None, district_id: str | None) -> str:
        from urllib.parse import urlencode

        query = {"response_type": "code", "client_id": self._config.client_id,
                 "redirect_uri": self._config.redirect_uri}
        if state:
            query["state"] = state
        if district_id:
            query["district_id"] = district_id
        return f"{self._config.oauth_base_url}/oauth/authorize?{urlencode(query)}"

    def exchange_code(self, code: str) -> TokenGrant:
        """``POST /oauth/tokens`` with HTTP Basic; a used or expired code is :class:`CleverInvalidGrant`.

        Interactive (a person waits in the callback), as are the identity calls below. Sent **once**: a code is
        single-use, so a 429 or 5xx ends this login (the page offers a fresh one) instead of re-posting it."""
        body = {"code": code, "grant_type": "authorization_code", "redirect_uri": self._config.redirect_uri}
        try:
            response = self._transport.send(
                "POST", self._config.oauth_base_url + "/oauth/tokens", self._basic(), json_body=body,
                system="clever_oauth", interactive=True, once=True,
            )
        except CleverBadRequest as e:
            raise CleverInvalidGrant() from e
        return TokenGrant.parse(response.body)

    def district_tokens(self) -> list[DistrictToken]:
        """Every district-app token of this app (``GET /oauth/tokens?owner_type=district``), following paging."""
        tokens: list[DistrictToken] = []
        url: str | None = self._config.oauth_base_url + "/oauth/tokens"
        params: Any = {"owner_type": "district"}
        while url:
            body = self._transport.send("GET", url, self._basic(), params=params, system="clever_oauth").body
            # An answer without a data list is not "no districts": reading it so would disconnect them all.
            entries = body.get("data") if isinstance(body, dict) else None
            if not isinstance(entries, list):
                raise CleverBadResponse("Clever's token list has no data list.")
            tokens.extend(DistrictToken.parse(entry) for entry in entries)
            link = next_link(body)
            url, params = (self._config.oauth_base_url + link, None) if link else (None, None)
        return tokens

    # -- identity (SSO token) ---------------------------------------------------------------------

    def me(self, token: str) -> Me:
        return Me.parse(self._get(f"/{IDENTITY_VERSION}/me", token, interactive=True))

    def user(self, token: str, user_id: str, *, version: str = IDENTITY_VERSION) -> CleverUser:
        body = self._get(f"/{version}/users/{user_id}", token, interactive=True)
        return CleverUser.parse(unwrap_one(body, "a user response"))

    def userinfo(self, token: str) -> UserInfo:
        return UserInfo.parse(self._get("/userinfo", token, interactive=True))

    # -- Data API (district-app token) ------------------------------------------------------------

    def districts(self, token: str) -> list[District]:
        return [District.parse(d) for d in unwrap_list(self._get(f"/{DATA_VERSION}/districts", token), "districts")]

    def district(self, token: str, district_id: str) -> District:
        body = self._get(f"/{DATA_VERSION}/districts/{district_id}", token)
        return District.parse(unwrap_one(body, "a district response"))

    def schools(self, token: str) -> Iterator[Page[School]]:
        return self._pages(token, f"/{DATA_VERSION}/schools", School.parse, "schools")

    def users(self, token: str) -> Iterator[Page[CleverUser]]:
        return self._pages(token, f"/{DATA_VERSION}/users", CleverUser.parse, "users")

    def sections(self, token: str) -> Iterator[Page[Section]]:
        return self._pages(token, f"/{DATA_VERSION}/sections", Section.parse, "sections")

    def section_users(self, token: str, section_id: str, role: str | None = None) -> Iterator[Page[CleverUser]]:
        params = {"role": role} if role else {}
        return self._pages(token, f"/{DATA_VERSION}/sections/{section_id}/users", CleverUser.parse, "users", params)

    def section(self, token: str, section_id: str) -> Section:
        body = self._get(f"/{DATA_VERSION}/sections/{section_id}", token)
        return Section.parse(unwrap_one(body, "a section response"))

    # -- Events -----------------------------------------------------------------------------------

    def events(self, token: str, *, starting_after: str | None) -> Iterator[Page[Event]]:
        """Events oldest first, after ``starting_after``. A :class:`CleverNotFound` means that event is gone
        (older than Clever's 30 days): the caller falls back to a full sync."""
        params: list[tuple[str, str]] = [("record_type", t) for t in SYNC_RECORD_TYPES]
        if starting_after:
            params.append(("starting_after", starting_after))
        return self._pages(token, f"/{DATA_VERSION}/events", Event.parse, "events", params)

    def latest_event(self, token: str) -> Event | None:
        """The newest event, or None when there is none: ``ending_before=last&limit=1``.

        ``last`` is not in Clever's spec (its own clients use it), and events are opt-in per district: callers
        must expect any error here and carry on without a cursor."""
        body = self._get(f"/{DATA_VERSION}/events", token, {"ending_before": "last", "limit": "1"})
        items = unwrap_list(body, "events")
        return Event.parse(items[-1]) if items else None

    # -- paging -----------------------------------------------------------------------------------

    def _pages(
        self,
        token: str,
        path: str,
        parse: Callable[[Any], T],
        what: str,
        params: dict[str, str] | list[tuple[str, str]] | None = None,
    ) -> Iterator[Page[T]]:
        """Follow ``links`` ``rel=next`` (relative URIs carrying ``starting_after``) until there is none.

        A page is yielded (and so stored by the sync) only once all of it has been read: every item parsed and
        its next link checked; a malformed page raises :class:`CleverBadResponse` before anything of it is used."""
        query: list[tuple[str, str]] = list(params.items()) if isinstance(params, dict) else list(params or [])
        query.append(("limit", str(self._config.page_limit)))
        url: str | None = self._api(path)
        current: list[tuple[str, str]] | None = query
        while url is not None:
            body = self._transport.send("GET", url, Bearer(token), params=current).body
            items = tuple(parse(item) for item in unwrap_list(body, what))
            link = next_link(body)
            yield Page(items, link)
            # An empty page with a next link would loop forever on a misbehaving server.
            url = self._api(link) if link and items else None
            current = None


def build_client(
    settings: Settings,
    http: HttpClient,
    *,
    timeout: float | None = None,
    max_retries: int | None = None,
    max_rate_limit_wait_seconds: float | None = None,
    limiter: TokenBudget | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> CleverClient:
    """A Clever client from the ``GATEWAY_CLEVER_*`` settings; each caller passes what it needs differently.

    ``timeout`` is each call's timeout (default ``GATEWAY_HTTP_TIMEOUT_SECONDS``; LMS Connect calls always use
    ``GATEWAY_CLEVER_LMS_TIMEOUT_SECONDS``); ``max_retries`` and ``max_rate_limit_wait_seconds`` default to
    their settings (the writeback outbox passes 0 and 0: it owns retries and waits). Clever counts its limit
    per bearer token, so every client of a deployment shares one ``limiter``: the Clever feature's
    :class:`~gateway.clever.ratelimit.StoreRateLimiter` (``CleverServices.budget``). Without one, the client
    gets a budget of its own in memory (tests, tools).
    """
    config = CleverConfig.from_settings(settings)
    limits = RetryLimits(
        max_retries=config.max_retries if max_retries is None else max_retries,
        base_seconds=config.retry_base_seconds,
        max_rate_limit_wait_seconds=(config.max_rate_limit_wait_seconds if max_rate_limit_wait_seconds is None
                                     else max_rate_limit_wait_seconds),
    )
    if limiter is None:
        limiter = RateLimiter(config.rate_limit_per_minute, clock=clock, sleep=sleep)
    transport = CleverTransport(http, limiter=limiter, limits=limits, clock=clock, sleep=sleep,
                                timeout=settings.http_timeout_seconds if timeout is None else timeout)
    return CleverClient(config, transport, lms_timeout=config.lms_timeout_seconds)
