"""A browser without JavaScript, for LTI launches over real HTTP: follows redirects and auto-post forms by hand.

Cookies are kept here rather than in requests' jar: the gateway's state cookie is ``Secure``, which
browsers send to http://127.0.0.1 (a secure context) but Python's cookie jar sends only over https.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit, urlunsplit

import requests


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.error_code: str | None = None
        self.links: dict[str, str] = {}
        self._in_code = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = a.get("action")
        if tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")
        if tag == "span" and a.get("id") == "error-code":
            self._in_code = True
        if tag == "a" and a.get("id"):
            self.links[a["id"]] = a.get("href", "")

    def handle_data(self, data: str) -> None:
        if self._in_code:
            self.error_code = data.strip()
            self._in_code = False


def parse_page(html: str) -> _FormParser:
    parser = _FormParser()
    parser.feed(html)
    return parser


@dataclass
class Browser:
    """Keeps cookies per host, sends them on every request (secure or not), never follows redirects itself."""

    session: requests.Session = field(default_factory=requests.Session)
    cookies: dict[str, dict[str, str]] = field(default_factory=dict)
    set_cookie_headers: list[str] = field(default_factory=list)
    block_cookies_from: set[str] = field(default_factory=set)

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        host = urlsplit(url).netloc
        jar = self.cookies.setdefault(host, {})
        headers = dict(kwargs.pop("headers", {}) or {})
        if jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        response = self.session.request(method, url, headers=headers, allow_redirects=False, timeout=10, **kwargs)
        for raw in response.raw.headers.getlist("Set-Cookie"):
            self.set_cookie_headers.append(raw)
            if host in self.block_cookies_from:
                continue
            name, _, rest = raw.partition("=")
            value = rest.split(";", 1)[0]
            if "max-age=0" in raw.lower() or "expires=thu, 01 jan 1970" in raw.lower():
                jar.pop(name.strip(), None)
            else:
                jar[name.strip()] = value
        return response

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, data: dict[str, str], **kwargs: Any) -> requests.Response:
        return self.request("POST", url, data=data, **kwargs)

    def close(self) -> None:
        self.session.close()


@dataclass
class Launch:
    """What one launch went through: the login answer, the platform's form, and the gateway's final answer."""

    login: requests.Response
    auth_url: str | None
    form_action: str | None
    form_fields: dict[str, str]
    response: requests.Response | None

    @property
    def final(self) -> requests.Response:
        return self.response if self.response is not None else self.login

    @property
    def code(self) -> str | None:
        """The hand-off code on the vendor URL the gateway redirected to."""
        location = self.final.headers.get("Location", "")
        values = parse_qs(urlsplit(location).query).get("code")
        return values[0] if values else None

    @property
    def error_code(self) -> str | None:
        return parse_page(self.final.text).error_code if self.final.status_code >= 400 else None


def on_replica(base: str, url: str) -> str:
    """``url`` sent to ``base`` instead (same path and query): a load balancer chose that replica for the request."""
    target = urlsplit(base)
    return urlunsplit(urlsplit(url)._replace(scheme=target.scheme, netloc=target.netloc))


def launch(browser: Browser, login_url: str, *, post_login: bool = False, tamper: Any = None,
           post_to: str | None = None) -> Launch:
    """Run login → platform auth → launch post. ``tamper(fields)`` may change the form before it is posted.

    ``post_to`` sends the launch post to that base URL (another replica) instead of the form's; the browser sees
    one origin behind a balancer, so the cookies the login set go with it.
    """
    if post_login:
        base, _, query = login_url.partition("?")
        params = {k: v[0] for k, v in parse_qs(query).items()}
        login = browser.post(base, params)
    else:
        login = browser.get(login_url)
    if login.status_code != 302:
        return Launch(login, None, None, {}, None)
    auth_url = urljoin(login_url, login.headers["Location"])
    page = browser.get(auth_url)
    form = parse_page(page.text)
    if form.action is None:
        return Launch(login, auth_url, None, {}, page)
    fields = dict(form.fields)
    if tamper is not None:
        tamper(fields)
    target = urljoin(auth_url, form.action)
    if post_to is not None:
        target = on_replica(post_to, target)
        login_host, post_host = urlsplit(login_url).netloc, urlsplit(post_to).netloc
        if post_host != login_host:
            browser.cookies.setdefault(post_host, {}).update(browser.cookies.get(login_host, {}))
    response = browser.post(target, fields)
    return Launch(login, auth_url, form.action, fields, response)


_AUTH_URL = re.compile(r"var authUrl = (\"[^\"]*\");")


def storage_launch(browser: Browser, login_url: str) -> Launch:
    """Login with ``lti_storage_target`` → platform auth → launch post, without running the pages' JavaScript.

    The gateway answers the login with its ``lti.put_data`` page (whose script goes on to the platform's auth
    endpoint) and, when the browser brought no state cookie, the launch post with its ``lti.get_data`` check
    page. ``response`` is that last answer; ``form_fields`` are the check page's form, which a browser's script
    posts back with ``lti_storage_check`` set to what the platform's storage said.
    """
    login = browser.get(login_url)
    found = _AUTH_URL.search(login.text) if login.status_code == 200 else None
    if found is None:
        return Launch(login, None, None, {}, None)
    auth_url = urljoin(login_url, json.loads(found.group(1)))
    form = parse_page(browser.get(auth_url).text)
    if form.action is None:
        return Launch(login, auth_url, None, {}, None)
    response = browser.post(urljoin(auth_url, form.action), dict(form.fields))
    check = parse_page(response.text)
    return Launch(login, auth_url, check.action, dict(check.fields), response)
