"""AGS URLs in production: https only, no credentials, refused before any token is fetched (issue 17)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.http import HttpClient
from gateway.lti.ags import LINEITEM, AgsClient, AgsUrlRefused
from gateway.lti.ags_token import TokenTarget
from gateway.ops.metrics import Metrics

TARGET = TokenTarget("reg_1", "client", "https://lms.example.edu/token", "https://lms.example.edu/token", ("s",))


class NoTokens:
    """Stands in for the token cache: a refusal must come before any token is asked for."""

    def __init__(self) -> None:
        self.asked = 0

    def token(self, target: Any) -> str:
        self.asked += 1
        raise AssertionError("no token may be fetched for a refused URL")


@pytest.mark.parametrize("url", ["http://lms.example.edu/lineitems", "https://user:pw@lms.example.edu/lineitems",
                                 "javascript:alert(1)", "/relative"])
def test_production_refuses_plain_http_and_odd_urls(url: str) -> None:
    tokens = NoTokens()
    client = AgsClient(HttpClient(Metrics(), timeout=1.0), tokens, timeout=1.0, production=True)  # type: ignore[arg-type]
    with pytest.raises(AgsUrlRefused, match="AGS_URL_NOT_ALLOWED"):
        client.call(TARGET, "GET", url, accept=LINEITEM)
    assert tokens.asked == 0


def test_plain_http_is_fine_outside_production() -> None:
    client = AgsClient(HttpClient(Metrics(), timeout=1.0), NoTokens(), timeout=1.0)  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match="no token"):  # it got as far as asking for a token
        client.call(TARGET, "GET", "http://lms.example.edu/lineitems", accept=LINEITEM)
