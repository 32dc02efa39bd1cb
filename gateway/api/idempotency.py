"""``Idempotency-Key`` for every ``/api/v1`` write: a client's retry returns the first answer, never a second effect.

Usage, on any write route (after the scope check, which must run first)::

    @bp.post("/things")
    @require_scope("writeback")
    @idempotent
    def create_thing() -> Response:
        with unit_of_work() as session:
            made = service.create(session, ...)        # state change + outbox row
        return json_response(made, 202)

Rules (after the IETF draft "The Idempotency-Key HTTP Header Field"):

- The key is 1 to 255 printable ASCII characters, scoped to the calling API key.
- The first request with a key runs; its answer (status, body, ``Content-Type``,
  ``Location``) is stored **in the same transaction as the view's writes** (that is what
  :func:`unit_of_work` is for), so a crash can never leave an effect without its answer.
- A repeat with the same method, path and body (JSON compared canonically) gets that
  answer again with ``Idempotent-Replayed: true``; a different request with the same key
  gets ``422 IDEMPOTENCY_KEY_REUSED``.
- Two concurrent requests with one key never both run: the key row is inserted first,
  and the database's primary key makes the second wait for the first to commit, then
  replay its answer.
- Refusals raised by the view (4xx errors) and 5xx answers are not stored: nothing
  happened, so the client may fix the request and send it again with the same key.
- Keys are kept ``GATEWAY_IDEMPOTENCY_RETENTION_HOURS`` (24 by default), then purged by
  the ``idempotency.purge`` periodic job.

A view decorated with :func:`idempotent` must make its writes through :func:`unit_of_work`:
on SQLite a second transaction would wait on the first one's write lock, and only writes in
that transaction are exactly-once (a view that writes nothing through it still gets replays,
but two concurrent duplicates could both run).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ParamSpec

from flask import Response, g, make_response, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.api.auth import current_api_key
from gateway.errors import GatewayError
from gateway.store.models.base import utcnow
from gateway.store.models.writeback import IdempotencyKeyRow
from gateway.store.repositories.idempotency import IdempotencyRepository
from gateway.web import core

P = ParamSpec("P")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_KEY_FORMAT = re.compile(r"^[\x20-\x7e]{1,255}$")
_KEPT_HEADERS = ("Content-Type", "Location")


class IdempotencyKeyInvalid(GatewayError):
    code = "IDEMPOTENCY_KEY_INVALID"
    status = 400
    title = "The Idempotency-Key header is not valid"
    default_hint = "Send 1 to 255 printable ASCII characters, for example a UUID."


class IdempotencyKeyReused(GatewayError):
    code = "IDEMPOTENCY_KEY_REUSED"
    status = 422
    title = "This Idempotency-Key was used for a different request"
    default_hint = "Use a new key for each distinct request; reuse a key only to retry the very same request."


class IdempotencyKeyInFlight(GatewayError):
    code = "IDEMPOTENCY_KEY_IN_FLIGHT"
    status = 409
    title = "A request with this Idempotency-Key is still being processed"
    default_hint = "Retry in a moment; you will get the first request's answer."


class _Duplicate(Exception):
    """Raised out of the view when another request claimed the same key first."""


class _Rollback(Exception):
    """Thrown into the transaction context to make it roll back."""


def _context(api_key_id: str, key: str) -> str:
    return f"idempotency:{api_key_id}:{hashlib.sha256(key.encode()).hexdigest()}"


def _fingerprint() -> str:
    body = request.get_data(cache=True)
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode() if body else b""
    except ValueError:
        canonical = body
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), request.query_string, canonical):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


@dataclass
class _Pending:
    """The request holding a key: its transaction (opened by the first ``unit_of_work``)."""

    api_key_id: str
    key: str
    fingerprint: str
    txn: contextlib.AbstractContextManager[Session] | None = None
    session: Session | None = None
    row: IdempotencyKeyRow | None = field(default=None)

    def new_row(self) -> IdempotencyKeyRow:
        now = utcnow()
        return IdempotencyKeyRow(
            api_key_id=self.api_key_id, key=self.key, request_hash=self.fingerprint, method=request.method,
            path=request.path[:500], response_status=0, response_headers={}, response_body_encrypted="",
            created_at=now, expires_at=now + dt.timedelta(hours=core().settings.idempotency_retention_hours),
        )

    def open(self) -> Session:
        """Begin the request's transaction by claiming the key; raises _Duplicate if another request has it."""
        self.txn = core().db.transaction()
        self.session = self.txn.__enter__()
        self.row = self.new_row()
        try:
            IdempotencyRepository(self.session).claim(self.row)
        except IntegrityError as e:
            self.rollback()
            raise _Duplicate() from e
        return self.session

    def rollback(self) -> None:
        if self.txn is not None:
            self.txn.__exit__(_Rollback, _Rollback(), None)
        self.txn = self.session = None

    def complete(self, response: Response) -> None:
        """Store the answer and commit it with the view's writes."""
        headers = {name: response.headers[name] for name in _KEPT_HEADERS if name in response.headers}
        sealed = core().cipher.encrypt(response.get_data(as_text=True), _context(self.api_key_id, self.key))
        if self.txn is None:  # the view wrote nothing through unit_of_work: store the answer on its own
            try:
                with core().db.transaction() as s:
                    row = self.new_row()
                    row.response_status, row.response_headers, row.response_body_encrypted = (
                        response.status_code, headers, sealed,
                    )
                    IdempotencyRepository(s).claim(row)
            except IntegrityError:
                pass  # a concurrent twin stored its answer first; both answers came from the same request
            return
        assert self.row is not None and self.session is not None
        self.row.response_status, self.row.response_headers = response.status_code, headers
        self.row.response_body_encrypted = sealed
        self.session.flush()
        txn, self.txn, self.session = self.txn, None, None
        txn.__exit__(None, None, None)


@contextlib.contextmanager
def unit_of_work() -> Iterator[Session]:
    """The request's transaction: shared with the idempotency key under :func:`idempotent`, else a new one."""
    pending: _Pending | None = g.get("_idempotency")
    if pending is None:
        with core().db.transaction() as session:
            yield session
        return
    yield pending.session if pending.session is not None else pending.open()


def _first_answer(pending: _Pending) -> Response | None:
    """The stored answer for this key (raising if it was for another request), or None if there is none."""
    with core().db.transaction() as s:
        repo = IdempotencyRepository(s)
        row = repo.get(pending.api_key_id, pending.key)
        if row is None:
            return None
        if row.expires_at <= utcnow():
            repo.delete(pending.api_key_id, pending.key)  # past retention and not yet purged: forget it now
            return None
        if row.request_hash != pending.fingerprint:
            raise IdempotencyKeyReused(
                f"The key was first used for {row.method} {row.path} with another body.",
            )
        body = core().cipher.decrypt(row.response_body_encrypted, _context(row.api_key_id, row.key))
        response = Response(body, status=row.response_status)
        for name, value in row.response_headers.items():
            response.headers[name] = value
        response.headers[REPLAYED_HEADER] = "true"
        return response


def _key_from_header() -> str | None:
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    if not _KEY_FORMAT.match(raw) or not raw.strip():
        raise IdempotencyKeyInvalid(f"`{HEADER}` must be 1 to 255 printable ASCII characters.")
    return raw


def idempotent(view: Callable[P, Any]) -> Callable[P, Response]:
    """Route decorator: honour ``Idempotency-Key`` (see the module docstring). Put it under ``require_scope``."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
        key = _key_from_header()
        if key is None:
            return make_response(view(*args, **kwargs))
        pending = _Pending(current_api_key().id, key, _fingerprint())
        first = _first_answer(pending)
        if first is not None:
            return first
        g._idempotency = pending
        try:
            response = make_response(view(*args, **kwargs))
        except _Duplicate:
            first = _first_answer(pending)
            if first is None:  # the other request rolled back after we collided: let the client retry
                raise IdempotencyKeyInFlight(headers={"Retry-After": "1"}) from None
            return first
        except BaseException:
            pending.rollback()
            raise
        finally:
            g.pop("_idempotency", None)
        if response.status_code >= 500:
            pending.rollback()
        else:
            pending.complete(response)
        return response

    return wrapper
