"""Click a sandbox launch from the shell: what a person does in the browser, for ``scripts/quickstart.sh``.

``python -m sandbox.shell_launch http://127.0.0.1:8000 --as student`` switches the dev vendor page to hold
codes, opens the activity in the simulated LMS as that user, follows the launch the way a browser does (the
gateway's login redirect, the LMS's auto-posted form, the gateway's redirect to the vendor page) and prints the
one-time code the vendor page holds. Nothing is redeemed: the code is left for the shell, as in the quick start.

Cookies are kept by hand: the gateway's login cookie is ``Secure``, which a browser sends to http://127.0.0.1
(a secure context) but Python's cookie jar sends only over https.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests

TIMEOUT = 15


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = a.get("action", "")
        if tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")


class ShellBrowser:
    """One origin's cookies, sent on every request; redirects followed by hand (no JavaScript, as in a test)."""

    def __init__(self) -> None:
        self.session = requests.Session()
        self.cookies: dict[str, str] = {}

    def request(self, method: str, url: str, **kwargs: object) -> requests.Response:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        response = self.session.request(method, url, headers=headers, allow_redirects=False, timeout=TIMEOUT,
                                        **kwargs)  # type: ignore[arg-type]  # data= for forms only
        for raw in response.raw.headers.getlist("Set-Cookie"):
            name, _, rest = raw.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response

    def follow(self, response: requests.Response, url: str) -> tuple[requests.Response, str]:
        """Follow redirects and auto-posted forms until a page that is neither."""
        for _ in range(10):
            if response.is_redirect:
                url = urljoin(url, response.headers["Location"])
                response = self.request("GET", url)
                continue
            form = _Form()
            form.feed(response.text)
            if form.action and "id_token" in form.fields:  # the LMS's auto-posted launch
                url = urljoin(url, form.action)
                response = self.request("POST", url, data=form.fields)
                continue
            return response, url
        raise RuntimeError(f"too many hops from {url}")


def held_code(base_url: str, user: str) -> str:
    base = base_url.rstrip("/")
    browser = ShellBrowser()
    browser.request("POST", base + "/sandbox/vendor/hold", data={"hold": "on", "next": "/sandbox/vendor/"})
    start = base + f"/sandbox/lms/start?user={user}&message=resource"
    page, url = browser.follow(browser.request("GET", start), start)
    found = re.search(r'<code id="code">([^<]+)</code>', page.text)
    if page.status_code != 200 or found is None:
        raise RuntimeError(f"no held code at {url} (HTTP {page.status_code}): {page.text[:300]}")
    return unescape(found.group(1))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.shell_launch", description=__doc__.split("\n")[0])
    parser.add_argument("base_url", help="the dev gateway, e.g. http://127.0.0.1:8000")
    parser.add_argument("--as", dest="user", choices=["student", "teacher"], default="student")
    args = parser.parse_args(argv)
    try:
        print(held_code(args.base_url, args.user))
    except (RuntimeError, requests.RequestException) as e:
        print(f"sandbox launch failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
