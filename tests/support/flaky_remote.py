"""A simulated delivery target that fails on command and records every delivery it receives.

Serve it with ``LiveServer`` (:func:`start_flaky_remote`). Deliveries arrive as
``POST /deliveries`` with ``{"id", "attempt", "payload"}``. What the remote answers is
scripted per *case* (the payload's ``case`` field) as a list of :class:`Answer`, one per
arrival, the last one repeating; unscripted cases answer 200. It keeps:

- ``arrivals``: every request, in arrival order;
- ``accepted``: the deliveries it answered 2xx, in order (what "arrived" means);
- ``overlaps``: delivery ids that were in flight twice at the same moment (must stay empty);
  a hung request is not counted, since its client may have given up on it long ago.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, request

from tests.support.live import LiveServer

MAX_HANG_SECONDS = 30.0


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str = '{"ok": true}'
    delay: float = 0.0
    hang: bool = False  # wait until released (or MAX_HANG_SECONDS), then 503; never counts as accepted
    late_headers: Callable[[], dict[str, str]] | None = None  # computed when answering (times relative to now)


OK = Answer()
HANG = Answer(status=503, hang=True)


def status(code: int, body: str | None = None, **headers: str) -> Answer:
    return Answer(status=code, headers={k.replace("_", "-"): v for k, v in headers.items()},
                  body=body if body is not None else json.dumps({"error": f"status {code}"}))


def slow(seconds: float) -> Answer:
    return Answer(delay=seconds)


@dataclass(frozen=True)
class Arrival:
    id: str
    attempt: int
    payload: dict[str, Any]
    status: int
    at: float


class FlakyRemote:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[str, list[Answer]] = {}
        self._served: dict[str, int] = defaultdict(int)
        self._inflight: dict[str, int] = defaultdict(int)
        self._release = threading.Event()
        self.default: Answer = OK
        self.arrivals: list[Arrival] = []
        self.accepted: list[Arrival] = []
        self.overlaps: list[str] = []
        self.max_inflight = 0
        self._inflight_total = 0
        self.server: LiveServer | None = None

    # -- test controls -------------------------------------------------------------------------

    def script(self, case: str, *answers: Answer) -> None:
        with self._lock:
            self._scripts[case] = list(answers)

    def release_hangs(self) -> None:
        self._release.set()

    def accepted_ids(self) -> list[str]:
        with self._lock:
            return [a.id for a in self.accepted]

    def arrivals_of(self, delivery_id: str) -> list[Arrival]:
        with self._lock:
            return [a for a in self.arrivals if a.id == delivery_id]

    def arrived(self, delivery_id: str) -> bool:
        return bool(self.arrivals_of(delivery_id))

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    # -- the remote ----------------------------------------------------------------------------

    def _next_answer(self, case: str | None) -> Answer:
        with self._lock:
            script = self._scripts.get(case or "")
            if not script:
                return self.default
            index = self._served[case or ""]
            self._served[case or ""] += 1
            return script[min(index, len(script) - 1)]

    def handle(self) -> Response:
        body = request.get_json(force=True)
        delivery_id, payload = str(body["id"]), dict(body.get("payload") or {})
        answer = self._next_answer(payload.get("case"))
        # A hung request outlives the client that gave up on it, so it does not count as in flight.
        tracked = not answer.hang
        with self._lock:
            if tracked:
                self._inflight[delivery_id] += 1
                self._inflight_total += 1
                self.max_inflight = max(self.max_inflight, self._inflight_total)
                if self._inflight[delivery_id] > 1:
                    self.overlaps.append(delivery_id)
            self.arrivals.append(Arrival(delivery_id, int(body.get("attempt", 0)), payload, answer.status,
                                         time.monotonic()))
        try:
            if answer.hang:
                self._release.wait(MAX_HANG_SECONDS)
            elif answer.delay:
                time.sleep(answer.delay)
        finally:
            with self._lock:
                if tracked:
                    self._inflight[delivery_id] -= 1
                    self._inflight_total -= 1
                if 200 <= answer.status <= 299 and not answer.hang:
                    self.accepted.append(Arrival(delivery_id, int(body.get("attempt", 0)), payload, answer.status,
                                                 time.monotonic()))
        headers = {**answer.headers, **(answer.late_headers() if answer.late_headers else {})}
        return Response(answer.body, status=answer.status, headers=headers, mimetype="application/json")

    def app(self) -> Flask:
        app = Flask("flaky_remote")
        app.add_url_rule("/deliveries", "deliveries", self.handle, methods=["POST"])
        return app


def start_flaky_remote() -> FlakyRemote:
    remote = FlakyRemote()
    remote.server = LiveServer(remote.app()).start()
    return remote


def stop_flaky_remote(remote: FlakyRemote) -> None:
    remote.release_hangs()
    if remote.server is not None:
        remote.server.stop()
