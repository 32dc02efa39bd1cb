"""Bearer authentication and scope checks for ``/api/v1`` routes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import g, request

from gateway.api.keys import SCOPES, ApiKey, ApiKeyService
from gateway.errors import InsufficientScope, InvalidApiKey, Unauthenticated
from gateway.web import services

P = ParamSpec("P")
R = TypeVar("R")


def current_api_key() -> ApiKey:
    key = g.get("api_key")
    if not isinstance(key, ApiKey):
        raise Unauthenticated()
    return key


def _authenticate() -> ApiKey:
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if not header:
        raise Unauthenticated("No Authorization header was sent.", headers={"WWW-Authenticate": "Bearer"})
    if scheme.lower() != "bearer" or not presented.strip():
        raise Unauthenticated(
            "The Authorization header must use the Bearer scheme.", headers={"WWW-Authenticate": "Bearer"}
        )
    key = services(ApiKeyService).authenticate(presented.strip())
    if key is None:
        raise InvalidApiKey(headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return key


def require_scope(scope: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Route decorator: a valid key (401 otherwise) that carries ``scope`` (403 otherwise)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            key = _authenticate()
            g.api_key = key
            if not key.has(scope):
                raise InsufficientScope(
                    f"This route needs the `{scope}` scope; the key has: {', '.join(sorted(key.scopes)) or 'none'}.",
                    extra={"required_scope": scope},
                )
            return view(*args, **kwargs)

        wrapper.required_scope = scope  # type: ignore[attr-defined]  # read by the OpenAPI coverage test
        return wrapper

    return decorate


def require_any_key(view: Callable[P, R]) -> Callable[P, R]:
    """Route decorator: any valid key, whatever its scopes."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        g.api_key = _authenticate()
        return view(*args, **kwargs)

    return wrapper
