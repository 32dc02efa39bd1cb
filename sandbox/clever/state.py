"""The simulated Clever's data: seeded by the test, changed through methods that also write events.

Ids look like Clever's (24 hex digits, ascending in creation order, as Clever's paging assumes). All access
goes through one lock: the server is threaded.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.clever import records

KINDS = ("districts", "schools", "users", "sections")


@dataclass
class CodeGrant:
    client_id: str
    redirect_uri: str
    user_id: str
    authorized_by: str
    expires_at: float
    used: bool = False


@dataclass
class SsoToken:
    user_id: str
    authorized_by: str
    district_id: str


@dataclass
class DistrictToken:
    id: str
    district_id: str
    created: str


@dataclass
class Switches:
    """Faults the next requests get (matched by path prefix, and by method when ``method`` is set)."""

    rate_limited: int = 0
    rate_limit_reset_in: float = 1.0
    failures: list[int] = field(default_factory=list)
    html: int = 0
    bodies: list[Any] = field(default_factory=list)  # the next matching requests answer 200 with these
    prefix: str = "/v3"
    method: str | None = None
    hang: int = 0  # the next N matching requests wait hang_seconds before answering (past a client's timeout)
    hang_seconds: float = 0.0
    lose_answers: int = 0  # the next N matching requests are applied, then answered 500 (the answer is "lost")


@dataclass
class RequestRecord:
    method: str
    path: str
    auth: str  # basic | sso | district | none


class CleverSim:
    """Seed with ``add_*``; change with ``update``/``unshare``/``reshare``; flip faults with the switches."""

    def __init__(
        self,
        *,
        client_id: str = "sim-client-id",
        client_secret: str = "sim-client-secret",  # noqa: S107  # a simulator's fixed test secret
        code_ttl_seconds: float = 60.0,
        rate_limit: int = 1200,
        rate_window_seconds: float = 60.0,
        default_page_size: int = 100,
        clock: Callable[[], float] = time.time,
        id_prefix: str | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris: list[str] = []
        self.code_ttl = code_ttl_seconds
        self.rate_limit = rate_limit
        self.rate_window = rate_window_seconds
        self.default_page_size = default_page_size
        self.clock = clock
        # 8 hex digits before a counter; random unless given (the dev sandbox fixes it so ids survive a restart).
        self._prefix = id_prefix if id_prefix is not None else secrets.token_hex(4)
        self._counter = itertools.count(1)
        self.records: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in KINDS}
        self.hidden: set[str] = set()
        self.codes: dict[str, CodeGrant] = {}
        self.sso_tokens: dict[str, SsoToken] = {}
        self.district_tokens: dict[str, DistrictToken] = {}
        self.events: list[dict[str, Any]] = []
        self.expired_before: str | None = None
        self.assignments: dict[tuple[str, str], dict[str, Any]] = {}
        self.submissions: dict[tuple[str, str, str], dict[str, Any]] = {}
        # Every LMS Connect write that was applied: (method, path, body), in arrival order.
        self.lms_writes: list[tuple[str, str, dict[str, Any]]] = []
        self.switches = Switches()
        self.requests: list[RequestRecord] = []
        self.windows: dict[str, tuple[float, int]] = {}
        self.throttled = 0  # 429s answered, switches and the real window alike

    # -- ids and seeding ----------------------------------------------------------------------------

    def new_id(self) -> str:
        return f"{self._prefix}{next(self._counter):016x}"

    def _add(self, kind: str, record: dict[str, Any]) -> str:
        with self.lock:
            self.records[kind][record["id"]] = record
            self._event(f"{kind}.created", record)
            return str(record["id"])

    def add_district(self, name: str = "Sim District", *, lms_state: str = "success", connect: bool = True) -> str:
        district_id = self.new_id()
        self._add("districts", records.district(district_id, name, lms_state=lms_state))
        if connect:
            self.connect_district(district_id)
        return district_id

    def add_school(self, district_id: str, name: str = "Sim Elementary") -> str:
        return self._add("schools", records.school(self.new_id(), district_id, name))

    def add_user(self, district_id: str, *, first: str, last: str, roles: dict[str, dict[str, Any]],
                 email: str | None = None, middle: str | None = None) -> str:
        record = records.user(self.new_id(), district_id, first=first, last=last, middle=middle, email=email,
                              roles=roles)
        return self._add("users", record)

    def add_section(self, district_id: str, school_id: str, name: str, *, teachers: list[str],
                    students: list[str], lms_synced: bool = True) -> str:
        record = records.section(self.new_id(), district_id, school_id, name, teachers=teachers,
                                 students=students, lms_synced=lms_synced)
        return self._add("sections", record)

    def connect_district(self, district_id: str) -> str:
        """The district authorizes the app: a district-app token appears in ``/oauth/tokens``."""
        with self.lock:
            token = secrets.token_hex(20)
            self.district_tokens[token] = DistrictToken(self.new_id(), district_id, records.timestamp())
            return token

    def revoke_district(self, district_id: str) -> None:
        """The district disconnects the app: its token stops working and is no longer listed."""
        with self.lock:
            for token in [t for t, d in self.district_tokens.items() if d.district_id == district_id]:
                del self.district_tokens[token]

    def token_for(self, district_id: str) -> str:
        with self.lock:
            return next(t for t, d in self.district_tokens.items() if d.district_id == district_id)

    # -- changes that write events -------------------------------------------------------------------

    def kind_of(self, record_id: str) -> str:
        return next(kind for kind in KINDS if record_id in self.records[kind])

    def update(self, record_id: str, **changes: Any) -> None:
        with self.lock:
            kind = self.kind_of(record_id)
            record = self.records[kind][record_id]
            previous = {key: record.get(key) for key in changes}
            record.update(changes)
            if kind != "districts":  # Clever's District schema has no last_modified
                record["last_modified"] = records.timestamp()
            if record_id not in self.hidden:
                self._event(f"{kind}.updated", record, previous)

    def unshare(self, record_id: str) -> None:
        """The district stops sharing a record (or deletes it): gone from the Data API, a ``.deleted`` event."""
        with self.lock:
            kind = self.kind_of(record_id)
            self.hidden.add(record_id)
            self._event(f"{kind}.deleted", self.records[kind][record_id])

    def reshare(self, record_id: str) -> None:
        """Shared again: back in the Data API, a ``.created`` event (https://dev.clever.com/docs/events-api)."""
        with self.lock:
            kind = self.kind_of(record_id)
            self.hidden.discard(record_id)
            self._event(f"{kind}.created", self.records[kind][record_id])

    def expire_events(self) -> None:
        """Every event so far falls out of Clever's 30-day window."""
        with self.lock:
            if self.events:
                self.expired_before = self.events[-1]["id"]
            self.events = []

    def _event(self, event_type: str, record: dict[str, Any], previous: dict[str, Any] | None = None) -> None:
        kind = event_type.partition(".")[0]
        district_id = record["id"] if kind == "districts" else record.get("district")
        event: dict[str, Any] = {
            "id": self.new_id(),
            "type": event_type,
            "created": records.timestamp(),
            "data": {"object": dict(record)},
            "_district": district_id,
        }
        if previous is not None:
            # The spec types each previous attribute as an object (`additionalProperties: {type: object}`),
            # so only object-valued ones (name, roles, ...) are echoed.
            event["previous_attributes"] = {k: v for k, v in previous.items() if isinstance(v, dict)}
        self.events.append(event)

    # -- views ---------------------------------------------------------------------------------------

    def visible(self, kind: str, district_id: str) -> list[dict[str, Any]]:
        with self.lock:
            items = [r for r in self.records[kind].values()
                     if r["id"] not in self.hidden and (r.get("district") == district_id or r["id"] == district_id)]
            return sorted(items, key=lambda r: r["id"])

    def find(self, kind: str, record_id: str, district_id: str) -> dict[str, Any] | None:
        with self.lock:
            record = self.records[kind].get(record_id)
            if record is None or record_id in self.hidden:
                return None
            if kind != "districts" and record.get("district") != district_id:
                return None
            if kind == "districts" and record_id != district_id:
                return None
            return record

    def district_of_user(self, user_id: str) -> str:
        return str(self.records["users"][user_id]["district"])

    def token_exchanges(self) -> int:
        return sum(1 for r in self.requests if r.method == "POST" and r.path == "/oauth/tokens")
