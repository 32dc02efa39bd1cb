"""JSON logs with a per-request id, and nothing secret or personal in them.

Log calls pass structured fields with ``extra={"fields": {...}}``. Field names
that can carry a token or personal data are dropped here, whoever logs them,
so a careless call cannot leak a bearer token or a student's email.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import sys
import traceback
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

# Lower-case substrings of field names never written to a log.
REDACTED_FIELD_PARTS = (
    "token",
    "secret",
    "password",
    "authorization",
    "cookie",
    "code",
    "email",
    "name",
    "assertion",
    "private",
    "state",
    "nonce",
)
# Field names that contain a redacted part but are safe (stable error codes, ids).
ALLOWED_FIELDS = frozenset({"error_code", "status_code", "code_id", "endpoint", "lms_name"})


def new_request_id(incoming: str | None) -> str:
    """Keep a well-formed id from a proxy's ``X-Request-Id``; otherwise make one."""
    if incoming and _REQUEST_ID_OK.match(incoming):
        return incoming
    return secrets.token_hex(12)


def scrub(fields: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in fields.items():
        lowered = key.lower()
        if lowered not in ALLOWED_FIELDS and any(part in lowered for part in REDACTED_FIELD_PARTS):
            clean[key] = "[redacted]"
        elif isinstance(value, dict):
            clean[key] = scrub(value)
        else:
            clean[key] = value
    return clean


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            payload["request_id"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            payload.update(scrub(fields))
        if record.exc_info and record.exc_info[0] is not None:
            # Type and frames only: exception messages from libraries can quote tokens or claims.
            payload["exc_type"] = record.exc_info[0].__name__
            payload["frames"] = [
                f"{frame.filename}:{frame.lineno} {frame.name}"
                for frame in traceback.extract_tb(record.exc_info[2])[-12:]
            ]
        return json.dumps(payload, default=str)


def configure_logging(level: str) -> None:
    root = logging.getLogger("gateway")
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level.upper())
    root.propagate = False


def log_event(logger: logging.Logger, level: int, message: str, *, exc_info: BaseException | None = None,
              **fields: Any) -> None:
    """The one way to log: a fixed message, named fields (redacted by name), and optionally the exception
    (logged as its type and stack frames, never its message)."""
    logger.log(level, message, exc_info=exc_info, extra={"fields": fields})
