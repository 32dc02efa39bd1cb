"""The one client layer for outbound HTTP.

Every call the gateway makes to a platform, to Clever or to anything else goes through :class:`HttpClient`,
which gives every call, whoever asks:

- a **total deadline** (``timeout``): connect, headers and every byte of the body together. A per-read timeout
  alone lets a peer that sends one byte every few seconds hold a thread for ever; here a watchdog shuts the
  call's socket when its deadline passes, wherever the call is blocked;
- a **response size cap** (``max_bytes``): the body is read here, never more than the cap, and a larger one
  fails the call (``too_large``);
- **no redirects** unless the caller passes ``allow_redirects=True``;
- with ``public_only=True``, **connects to the address it checked**: the host is resolved once, every address
  must be a public unicast one (:func:`address_refused`), and the socket connects to that checked address (TLS
  still verifies the host name), so a name cannot resolve to a public address for the check and to an internal
  one for the connection (DNS rebinding). A refusal is the reason ``address_not_allowed``;
- a ``system`` label for metrics, and failures turned into :class:`OutboundError` with a reason (``timeout``,
  ``connection``, ``too_large``, ``address_not_allowed``, ``request``) so callers decide how to retry.

Retry policy belongs to the caller, because it depends on what is being sent.
"""

from __future__ import annotations

import contextlib
import heapq
import ipaddress
import itertools
import socket
import threading
import time
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from gateway.ops.metrics import Metrics

DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
_CHUNK = 64 * 1024


class OutboundError(Exception):
    """An outbound call failed before a whole response arrived (timeout, refused connection, bad TLS, too large)."""

    def __init__(self, system: str, reason: str, message: str) -> None:
        super().__init__(f"{system}: {reason}: {message}")
        self.system = system
        self.reason = reason


def address_refused(address: str) -> bool:
    """Whether a public-only call may not go to this IP address: anything but a global unicast address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback
    return (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_reserved or ip.is_multicast
            or ip.is_unspecified or not ip.is_global)


# -- the deadline: one watchdog thread shuts the sockets of calls whose time is up ---------------------------


class _Call:
    """One outbound call in flight: the sockets it opened or reused, and whether its deadline passed."""

    def __init__(self) -> None:
        self.sockets: list[socket.socket] = []
        self.expired = False
        self.finished = False
        self.lock = threading.Lock()

    def add(self, sock: socket.socket) -> None:
        with self.lock:
            self.sockets.append(sock)
            expired = self.expired
        if expired:
            _shut(sock)

    def finish(self) -> None:
        with self.lock:
            self.finished = True

    def expire(self) -> None:
        with self.lock:
            if self.finished:
                return  # its sockets may be back in the pool, another call's now
            self.expired = True
            sockets = list(self.sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    # shutdown() wakes a thread blocked in recv() on this socket at once; close() alone would not.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


_current = threading.local()


def _track(sock: socket.socket | None) -> None:
    call: _Call | None = getattr(_current, "call", None)
    if call is not None and sock is not None:
        call.add(sock)


class _Watchdog:
    """Expires calls at their deadline: one daemon thread and a heap, however many calls are in flight."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Call]] = []
        self._counter = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def watch(self, call: _Call, seconds: float) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + seconds, next(self._counter), call))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="http-deadlines", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][2].finished:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                due, _, call = self._heap[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
            call.expire()


_WATCHDOG = _Watchdog()


# -- connections that report their sockets to the call, and the public-only ones that pin the checked address ---


class AddressNotAllowed(NewConnectionError):
    """The host resolves to an address a public-only call may not reach (or does not resolve)."""


class _TrackedHTTPConnection(HTTPConnection):
    """A connection whose socket the deadline watchdog can shut; pinned to the checked address when public-only."""

    public_only = False

    def _new_conn(self) -> socket.socket:
        sock = _pinned_conn(self) if self.public_only else super()._new_conn()
        _track(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _track(self.sock)  # a kept-alive connection: its socket is this call's too
        super().request(*args, **kwargs)


class _TrackedHTTPSConnection(_TrackedHTTPConnection, HTTPSConnection):
    """The same, over TLS (the MRO puts the tracking before HTTPSConnection's own methods)."""


class _PublicHTTPConnection(_TrackedHTTPConnection):
    public_only = True


class _PublicHTTPSConnection(_TrackedHTTPSConnection):
    public_only = True


def _pinned_conn(conn: HTTPConnection) -> socket.socket:
    """Resolve once, check every address, connect to a checked one (the TLS layer still checks the name)."""
    host = conn._dns_host  # urllib3: the host it resolves
    try:
        infos = socket.getaddrinfo(host.strip("[]"), conn.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as e:
        raise AddressNotAllowed(conn, f"{host} does not resolve") from e
    addresses = [str(info[4][0]) for info in infos]
    if not addresses or any(address_refused(a) for a in addresses):
        raise AddressNotAllowed(conn, f"{host} resolves to an address public-only calls may not reach")
    try:
        return urllib3_connection.create_connection(
            (addresses[0], conn.port), conn.timeout, source_address=conn.source_address,
            socket_options=conn.socket_options,
        )
    except TimeoutError as e:
        raise ConnectTimeoutError(conn, f"connecting to {host} timed out") from e
    except socket.gaierror as e:
        raise NameResolutionError(host, conn, e) from e
    except OSError as e:
        raise NewConnectionError(conn, f"could not connect to {host}: {e}") from e


def _pool(base: type[HTTPConnectionPool], connection: type[HTTPConnection]) -> type[HTTPConnectionPool]:
    return type(f"{connection.__name__}Pool", (base,), {"ConnectionCls": connection})


class _Adapter(HTTPAdapter):
    def __init__(self, *, public_only: bool) -> None:
        self._classes = (
            {"http": _pool(HTTPConnectionPool, _PublicHTTPConnection),
             "https": _pool(HTTPSConnectionPool, _PublicHTTPSConnection)}
            if public_only else
            {"http": _pool(HTTPConnectionPool, _TrackedHTTPConnection),
             "https": _pool(HTTPSConnectionPool, _TrackedHTTPSConnection)}
        )
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._classes


def _session(user_agent: str, *, public_only: bool) -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = user_agent
    for prefix in ("http://", "https://"):
        session.mount(prefix, _Adapter(public_only=public_only))
    return session


def _address_refusal(error: BaseException) -> bool:
    seen: set[int] = set()
    stack: list[BaseException | None] = [error]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, AddressNotAllowed):
            return True
        stack.extend([e.__cause__, e.__context__, getattr(e, "reason", None)])
        stack.extend(a for a in e.args if isinstance(a, BaseException))
    return False


class HttpClient:
    def __init__(self, metrics: Metrics, *, timeout: float, max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
                 user_agent: str = "gateway/0.1") -> None:
        self._metrics = metrics
        self._timeout = timeout
        self._max_bytes = max_response_bytes
        self._session = _session(user_agent, public_only=False)
        self._public = _session(user_agent, public_only=True)

    @property
    def timeout(self) -> float:
        return self._timeout

    def request(
        self,
        system: str,
        method: str,
        url: str,
        *,
        timeout: float | None = None,
        max_bytes: int | None = None,
        public_only: bool = False,
        allow_redirects: bool = False,
        **kwargs: Any,
    ) -> requests.Response:
        """Send one request and read its whole body, within ``timeout`` seconds in all (default the client's).

        Raises :class:`OutboundError` when no whole response arrives in time, or it is larger than ``max_bytes``.
        The returned response is read and closed: use ``.content``, ``.json()``, ``.text``.
        """
        deadline = timeout or self._timeout
        cap = max_bytes or self._max_bytes
        kwargs.pop("stream", None)  # the body is always read here, under the cap and the deadline
        session = self._public if public_only else self._session
        call = _Call()
        previous = getattr(_current, "call", None)
        _current.call = call
        _WATCHDOG.watch(call, deadline)
        started = time.perf_counter()
        try:
            try:
                response = session.request(method, url, timeout=deadline, allow_redirects=allow_redirects,
                                            stream=True, **kwargs)
                _read_capped(response, cap)
            except _TooLarge as e:
                self._fail(system, "too_large", f"{method} {url} answered more than {cap} bytes", e)
            except Exception as e:
                if call.expired or isinstance(e, requests.Timeout):
                    self._fail(system, "timeout", f"{method} {url} did not finish within {deadline:g}s", e)
                if _address_refusal(e):
                    self._fail(system, "address_not_allowed", f"{method} {url}: address not allowed", e)
                if isinstance(e, requests.ConnectionError):
                    self._fail(system, "connection", f"{method} {url} could not connect", e)
                if isinstance(e, (requests.RequestException, OSError)):
                    self._fail(system, "request", f"{method} {url} failed", e)
                raise
        finally:
            call.finish()
            _current.call = previous
            self._metrics.outbound_seconds.labels(system=system).observe(time.perf_counter() - started)
        self._metrics.outbound_responses.labels(system=system, status=str(response.status_code)).inc()
        return response

    def _fail(self, system: str, reason: str, message: str, cause: BaseException) -> None:
        self._metrics.outbound_failures.labels(system=system, reason=reason).inc()
        raise OutboundError(system, reason, message) from cause

    def get(self, system: str, url: str, **kwargs: Any) -> requests.Response:
        return self.request(system, "GET", url, **kwargs)

    def post(self, system: str, url: str, **kwargs: Any) -> requests.Response:
        return self.request(system, "POST", url, **kwargs)

    def close(self) -> None:
        self._session.close()
        self._public.close()


class _TooLarge(Exception):
    pass


def _read_capped(response: requests.Response, cap: int) -> None:
    """Read the body into the response (so ``.content`` and ``.json()`` work), refusing more than ``cap`` bytes."""
    with response:
        declared = response.headers.get("Content-Length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > cap:
            raise _TooLarge()
        body = bytearray()
        for chunk in response.iter_content(_CHUNK):
            body += chunk
            if len(body) > cap:
                raise _TooLarge()
        response._content = bytes(body)  # requests: its cache of the read body
        response._content_consumed = True  # type: ignore[attr-defined]
