"""Paging cursors and pages: one opaque, versioned codec and the one ``INVALID_CURSOR`` refusal.

No Flask here: the stores and services that hand out cursors encode and decode them; the views only pass the
string through. Each list keeps its own keyset logic (what the key is); only the encoding is shared.

A cursor is base64url of the JSON array ``[version, list name, *key]``. Clients must treat it as opaque; the
version lets the encoding change later while old cursors are still recognised, and the list name stops one
list's cursor from being replayed on another list.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, NamedTuple

from gateway.errors import GatewayError

VERSION = 1

KeyPart = type[str] | type[int] | type[dt.datetime]


class InvalidCursor(GatewayError):
    code = "INVALID_CURSOR"
    status = 400
    title = "The cursor is not valid"
    default_hint = "Send the `next_cursor` of the previous page unchanged, or no cursor for the first page."


class Page(NamedTuple):
    """One page of a list: its documents and the cursor of the next page (``None`` on the last page)."""

    data: list[dict[str, Any]]
    next_cursor: str | None


@dataclass(frozen=True)
class Cursor:
    """The cursor of one list: ``name`` identifies the list, ``parts`` are the types of its keyset key."""

    name: str
    parts: tuple[KeyPart, ...] = (str,)

    def encode(self, *key: str | int | dt.datetime) -> str:
        if len(key) != len(self.parts) or not all(type(k) is t or (t is dt.datetime and isinstance(k, t))
                                                  for k, t in zip(key, self.parts, strict=True)):
            raise TypeError(f"the {self.name} cursor takes a key of {self.parts}, not {key!r}")
        values = [k.isoformat() if isinstance(k, dt.datetime) else k for k in key]
        raw = json.dumps([VERSION, self.name, *values], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()

    def decode(self, cursor: str | None) -> tuple[Any, ...] | None:
        """The key ``cursor`` carries, typed as ``parts``; ``None`` for no cursor (the first page)."""
        if not cursor:
            return None
        try:
            raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        except (binascii.Error, ValueError, UnicodeDecodeError) as e:
            raise InvalidCursor() from e
        if not isinstance(raw, list) or raw[:2] != [VERSION, self.name] or len(raw) != 2 + len(self.parts):
            raise InvalidCursor()
        return tuple(_part(value, kind) for value, kind in zip(raw[2:], self.parts, strict=True))


def _part(value: Any, kind: KeyPart) -> Any:
    if kind is dt.datetime:
        if not isinstance(value, str):
            raise InvalidCursor()
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError as e:
            raise InvalidCursor() from e
    # ``type() is``, not isinstance: JSON ``true`` must not pass for an int key.
    if type(value) is not kind or (kind is str and not value):
        raise InvalidCursor()
    return value
