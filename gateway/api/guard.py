"""The edge: what no route should ever see, refused once for every route before any view runs.

A request is refused ``400 INVALID_INPUT`` (with ``errors[].field``) when

* its path, a query parameter or a form field (name or value) holds a NUL character (PostgreSQL refuses NUL in
  text, SQLite stores it: either way nothing useful), or a lone UTF-16 surrogate (no encoder writes one);
* its JSON body nests deeper than :data:`MAX_JSON_DEPTH` (deep nesting overflowed Python's recursion in the
  decoder, the idempotency fingerprint and the validators), or holds a NUL or a lone surrogate in any key or
  string (``"\\ud800"`` is valid JSON and is refused by every database driver).

A JSON body that does not parse is left to the route, which answers its own ``422 VALIDATION_FAILED``. Digits in
``limit`` are ASCII only (:func:`gateway.api.params.limit`).
"""

from __future__ import annotations

import json
from typing import Any

from flask import request

from gateway.errors import GatewayError

MAX_JSON_DEPTH = 32


class InvalidInput(GatewayError):
    code = "INVALID_INPUT"
    status = 400
    title = "The request holds characters or nesting the gateway does not accept"
    default_hint = ("Remove NUL characters and unpaired UTF-16 surrogates, and nest JSON at most "
                    f"{MAX_JSON_DEPTH} levels deep; `errors[].field` names the place.")


def _refuse(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, extra={"errors": [{"field": field, "message": message}]})


def _bad_text(text: str) -> str | None:
    if "\x00" in text:
        return "holds a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "holds an unpaired UTF-16 surrogate"
    return None


def _check_pairs(where: str, pairs: Any) -> None:
    for name, value in pairs:
        for text in (name, value):
            problem = _bad_text(text)
            if problem:
                shown = name if _bad_text(name) is None else "?"
                raise _refuse(f"{where}.{shown}" if where != "query" else shown, f"`{shown}` {problem}.")


def _walk(document: Any) -> None:
    """Depth, NUL and surrogates over a parsed JSON document, without recursion."""
    stack: list[tuple[Any, int, str]] = [(document, 1, "body")]
    while stack:
        value, depth, path = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise _refuse("body", f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels.")
            if isinstance(value, dict):
                for key, item in value.items():
                    problem = _bad_text(key)
                    if problem:
                        raise _refuse(path, f"A key in `{path}` {problem}.")
                    stack.append((item, depth + 1, f"{path}.{key}" if path != "body" else key))
            else:
                stack.extend((item, depth + 1, f"{path}[{i}]") for i, item in enumerate(value))
        elif isinstance(value, str):
            problem = _bad_text(value)
            if problem:
                raise _refuse(path, f"`{path}` {problem}.")


def check_request() -> None:
    """``before_request``: refuse what no route can store or answer safely (see the module docstring)."""
    problem = _bad_text(request.path)
    if problem:
        raise _refuse("path", f"The path {problem}.")
    _check_pairs("query", request.args.items(multi=True))
    if request.mimetype == "application/x-www-form-urlencoded":
        _check_pairs("form", request.form.items(multi=True))
    if request.is_json and request.content_length != 0:
        raw = request.get_data(cache=True)
        if not raw:
            return
        try:
            document = json.loads(raw)
        except RecursionError as e:
            raise _refuse("body", f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels.") from e
        except ValueError:
            return  # not JSON: the route says so in its own words
        _walk(document)
