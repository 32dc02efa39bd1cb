"""Reading a vendor or admin request: ``limit``, flags, choices, a JSON object body, the calling key.

Every mistake in a value the client sent is ``422 VALIDATION_FAILED`` with ``errors: [{field, message}]``, on
every route (README, "The vendor API"); a cursor the gateway did not hand out is ``400 INVALID_CURSOR``
(:mod:`gateway.api.cursor`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from flask import request

from gateway.api.auth import current_api_key
from gateway.errors import ValidationFailed

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


def invalid(field: str, message: str) -> ValidationFailed:
    """The one refusal for a bad value: ``field`` names the query parameter or body field."""
    return ValidationFailed(message, extra={"errors": [{"field": field, "message": message}]})


def limit(default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
    """The page size asked for in ``?limit=``, from 1 to ``maximum``."""
    raw = request.args.get("limit")
    if raw is None:
        return default
    # ASCII digits only: str.isdigit() also accepts superscripts (int() refuses them) and fullwidth digits.
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise invalid("limit", f"`limit` must be an integer from 1 to {maximum}.")
    return int(raw)


def cursor() -> str | None:
    """The opaque ``?cursor=`` of the page asked for; its list's store decodes it."""
    return request.args.get("cursor") or None


def flag(name: str, default: bool = False) -> bool:
    """A boolean query parameter: ``true`` or ``false`` (any case)."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if raw.lower() not in ("true", "false"):
        raise invalid(name, f"`{name}` must be true or false.")
    return raw.lower() == "true"


def choice(name: str, choices: Sequence[str], default: str | None = None) -> str | None:
    """A query parameter that must be one of ``choices`` when given."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if raw not in choices:
        raise invalid(name, f"`{name}` must be one of {', '.join(choices)}.")
    return raw


def choices(name: str, allowed: Sequence[str]) -> list[str]:
    """A repeatable query parameter whose every value must be in ``allowed``; all of them when absent."""
    values = request.args.getlist(name) or list(allowed)
    if not set(values) <= set(allowed):
        raise invalid(name, f"`{name}` must be one of {', '.join(allowed)}.")
    return values


def json_object(allowed: Collection[str] | None = None, *, required: bool = True) -> dict[str, Any]:
    """The request body as a JSON object; with ``allowed``, an unknown field is refused, not ignored.

    ``required=False`` lets a route take no body at all (an empty object).
    """
    if not required and not request.data:
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise invalid("body", "Send a JSON object.")
    if allowed is not None:
        unknown = sorted(set(body) - set(allowed))
        if unknown:
            raise invalid(unknown[0], f"Unknown field `{unknown[0]}`.")
    return body


def actor() -> str:
    """Who an audit entry names for a change made over the API: the calling key."""
    return f"api_key:{current_api_key().id}"
