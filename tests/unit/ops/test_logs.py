"""JSON logs: one object a line, with the request id, and nothing secret or personal."""

from __future__ import annotations

import json
import logging

from gateway.ops.logs import JsonFormatter, new_request_id, request_id_var, scrub


def _format(message: str, **fields: object) -> dict[str, object]:
    record = logging.LogRecord("gateway.test", logging.INFO, __file__, 1, message, None, None)
    record.fields = fields
    loaded: dict[str, object] = json.loads(JsonFormatter().format(record))
    return loaded


def test_sensitive_field_names_are_redacted_whoever_logs_them() -> None:
    line = _format(
        "exchange",
        access_token="tok-123",
        client_secret="sss",
        email="kid@school.example",
        given_name="Ada",
        state="abc",
        nonce="n-1",
        authorization="Bearer x",
        error_code="LTI_INVALID_SIGNATURE",
        status_code=400,
    )
    text = json.dumps(line)
    for leaked in ("tok-123", "sss", "kid@school.example", "Ada", "n-1", "Bearer x"):
        assert leaked not in text
    assert line["error_code"] == "LTI_INVALID_SIGNATURE" and line["status_code"] == 400


def test_nested_fields_are_scrubbed() -> None:
    assert scrub({"remote": {"id_token": "eyJ...", "status": 401}}) == {
        "remote": {"id_token": "[redacted]", "status": 401}
    }


def test_request_id_is_attached() -> None:
    token = request_id_var.set("req-12345678")
    try:
        assert _format("hello")["request_id"] == "req-12345678"
    finally:
        request_id_var.reset(token)


def test_exception_messages_are_not_logged() -> None:
    try:
        raise ValueError("token=abc123 for ada@school.example")
    except ValueError:
        import sys

        record = logging.LogRecord("gateway.test", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    line = JsonFormatter().format(record)
    assert "abc123" not in line and "ada@school.example" not in line
    assert json.loads(line)["exc_type"] == "ValueError"
    assert any("test_exception_messages_are_not_logged" in frame for frame in json.loads(line)["frames"])


def test_request_ids_are_checked() -> None:
    assert new_request_id("lb-0123456789") == "lb-0123456789"
    assert new_request_id("bad id with spaces") != "bad id with spaces"
    assert new_request_id(None)
