"""Every outbound call has a total deadline, a size cap, no redirects, and (public-only) connects where it checked.

Issue 17: the 10 s timeout was per read, so a peer dripping one byte every few seconds held a call (and its
thread) for as long as it liked; bodies were read whole whatever their size; JWKS fetches followed redirects.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from werkzeug.wrappers import Request, Response

from gateway.http import HttpClient, OutboundError
from gateway.ops.metrics import Metrics
from tests.support.live import LiveServer
from tests.support.slow_peer import SlowPeer
from tests.support.waiting import wait_until


@pytest.fixture
def http() -> Iterator[HttpClient]:
    # A deadline no loaded CI machine reaches on loopback, so these tests fail only for the reason they name
    # (a 1 s deadline once cut off the 2 MiB read below as "timeout" before the cap could say "too_large").
    client = HttpClient(Metrics(), timeout=30.0)
    yield client
    client.close()


@pytest.fixture
def hasty_http() -> Iterator[HttpClient]:
    client = HttpClient(Metrics(), timeout=1.0)
    yield client
    client.close()


@pytest.mark.parametrize("drip", ["headers", "body"])
def test_a_dripping_peer_is_cut_off_at_the_deadline(hasty_http: HttpClient, drip: str) -> None:
    http = hasty_http
    # A byte every 0.1 s never trips a per-read timeout; 400 bytes would take 40 s.
    peer = SlowPeer(interval=0.1, total_bytes=400, drip=drip)
    try:
        with pytest.raises(OutboundError) as caught:
            http.get("test", peer.url + "/slow")
        assert caught.value.reason == "timeout"
        wait_until(lambda: peer.open == 0, what="the peer to see the hang-up")
        # About 1 s / 0.1 s = 10 bytes got out before the deadline, not the 480 a per-read timeout allows.
        assert peer.sent and max(peer.sent) < 60
    finally:
        peer.close()


@pytest.fixture
def remote() -> Iterator[tuple[LiveServer, list[str]]]:
    hits: list[str] = []

    @Request.application  # type: ignore[arg-type]
    def app(request: Request) -> Response:
        hits.append(request.path)
        if request.path == "/big":
            return Response(b"x" * (2 * 1024 * 1024))
        if request.path == "/redirect":
            return Response(status=302, headers={"Location": "/target"})
        return Response(b'{"ok": true}', mimetype="application/json")

    with LiveServer(app) as server:
        yield server, hits


def test_a_body_over_the_cap_fails_the_call(http: HttpClient, remote: tuple[LiveServer, list[str]]) -> None:
    server, _ = remote
    with pytest.raises(OutboundError) as caught:
        http.get("test", server.url + "/big", max_bytes=1024 * 1024)
    assert caught.value.reason == "too_large"
    assert len(http.get("test", server.url + "/big", max_bytes=4 * 1024 * 1024).content) == 2 * 1024 * 1024


def test_redirects_are_not_followed_unless_asked(http: HttpClient, remote: tuple[LiveServer, list[str]]) -> None:
    server, hits = remote
    response = http.get("test", server.url + "/redirect")
    assert response.status_code == 302
    assert hits == ["/redirect"]
    assert http.get("test", server.url + "/redirect", allow_redirects=True).json() == {"ok": True}
    assert hits == ["/redirect", "/redirect", "/target"]


def test_a_public_only_call_never_connects_to_a_loopback_address(
    http: HttpClient, remote: tuple[LiveServer, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, hits = remote
    resolved: list[str] = []
    real = socket.getaddrinfo

    def counting(host: str, *args: object, **kwargs: object) -> object:
        resolved.append(host)
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", counting)
    with pytest.raises(OutboundError) as caught:
        http.get("test", f"http://localhost:{server.port}/x", public_only=True)
    assert caught.value.reason == "address_not_allowed"
    assert hits == []  # checked before connecting, and the connection would go to the address checked
    assert resolved == ["localhost"]  # resolved once: no second lookup for the connection to race
    assert http.get("test", f"http://localhost:{server.port}/x").json() == {"ok": True}  # not public-only: fine
