"""The gateway's error hierarchy.

Every refusal is a :class:`GatewayError` with a stable machine ``code`` (greppable,
documented, never reworded), an HTTP ``status``, a ``message`` for the person
who reads it, and a ``hint`` saying what they can do. Library errors are
translated at the boundary (``raise InvalidLaunch(...) from e``); nothing here
parses error strings.

API callers get ``application/problem+json`` (RFC 9457); browsers get a plain
HTML page rendered by :mod:`gateway.ops.pages`.
"""

from __future__ import annotations

from typing import Any, ClassVar


class GatewayError(Exception):
    """Base of every error the gateway shows to a caller."""

    code: ClassVar[str] = "INTERNAL_ERROR"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Something went wrong"
    default_hint: ClassVar[str] = "Try again in a minute. If it keeps happening, contact support with the request id."

    def __init__(
        self,
        message: str | None = None,
        *,
        hint: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.title
        self.hint = hint or self.default_hint
        self.extra = extra or {}
        self.headers = headers or {}
        super().__init__(f"{self.code}: {self.message}")

    def problem(self, request_id: str | None) -> dict[str, Any]:
        """The RFC 9457 body, with our stable ``code`` and the request id."""
        body: dict[str, Any] = {
            "type": f"urn:gateway:error:{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.message,
            "code": self.code,
            "hint": self.hint,
        }
        if request_id:
            body["request_id"] = request_id
        body.update(self.extra)
        return body


class BadRequest(GatewayError):
    code = "BAD_REQUEST"
    status = 400
    title = "The request is not valid"
    default_hint = "Check the request against the API reference (openapi.yaml) and send it again."


class ValidationFailed(GatewayError):
    code = "VALIDATION_FAILED"
    status = 422
    title = "The request body did not pass validation"
    default_hint = "Fix the fields listed in `errors` and send the request again."


class NotFound(GatewayError):
    code = "NOT_FOUND"
    status = 404
    title = "Not found"
    default_hint = "Check the URL; the resource may never have existed or may have been removed."


class MethodNotAllowed(GatewayError):
    code = "METHOD_NOT_ALLOWED"
    status = 405
    title = "Method not allowed"
    default_hint = "See the API reference for the methods this route accepts."


class Unauthenticated(GatewayError):
    code = "UNAUTHENTICATED"
    status = 401
    title = "An API key is required"
    default_hint = "Send `Authorization: Bearer <api key>`; create keys with `gateway api-keys create`."


class InvalidApiKey(GatewayError):
    code = "INVALID_API_KEY"
    status = 401
    title = "The API key is not valid"
    default_hint = "The key is unknown or revoked. Create a new one with `gateway api-keys create`."


class InsufficientScope(GatewayError):
    code = "INSUFFICIENT_SCOPE"
    status = 403
    title = "The API key lacks the scope this route needs"
    default_hint = "Use a key that carries the scope named in `required_scope`, or create one."


class Conflict(GatewayError):
    code = "CONFLICT"
    status = 409
    title = "The request conflicts with the current state"


class PayloadTooLarge(GatewayError):
    code = "PAYLOAD_TOO_LARGE"
    status = 413
    title = "The request body is too large"
    default_hint = "Send a smaller body; see the limits in the API reference."


class InternalError(GatewayError):
    code = "INTERNAL_ERROR"
    status = 500
    title = "Something went wrong on our side"
