"""Validate every ``/api/v1`` response a test provokes against ``openapi.yaml``.

:func:`attach` adds an ``after_request`` hook to a gateway app under test. The
hook records each response that does not match the spec; the gateway fixture
fails the test at teardown if any were recorded. So every feature's API tests
check the contract without writing a line for it. The spec is parsed once per
process, by the first ``attach`` (while a gateway starts, not in a response).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, Response, request
from openapi_core import Config, OpenAPI
from openapi_core.contrib.flask import FlaskOpenAPIRequest
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIResponse

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"


@functools.cache
def spec() -> OpenAPI:
    # The IMS and problem media types are JSON; openapi-core only knows application/json by name.
    json_types = {
        "application/problem+json": json.loads,
        "application/vnd.ims.lis.v1.score+json": json.loads,
        "application/vnd.ims.lis.v2.lineitem+json": json.loads,
    }
    return OpenAPI.from_file_path(str(SPEC_PATH), config=Config(extra_media_type_deserializers=json_types))


@dataclass
class ContractRecorder:
    violations: list[str] = field(default_factory=list)
    checked: int = 0

    def assert_clean(self) -> None:
        assert not self.violations, "API responses that break openapi.yaml:\n" + "\n".join(self.violations)


def _explain(error: Exception) -> str:
    parts = [f"{type(error).__name__}: {error}"]
    cause = error.__cause__
    while cause is not None:
        parts.append(f"{type(cause).__name__}: {cause}")
        details = getattr(cause, "schema_errors", None)
        if details:
            parts.extend(f"  - {getattr(d, 'message', d)}" for d in details)
        cause = cause.__cause__
    return "\n    ".join(parts)


def attach(app: Flask) -> ContractRecorder:
    # Loaded here, while the test's gateway starts, and not inside the first API response: parsing openapi.yaml
    # takes over a second on a busy machine, which a client with a short timeout would count against the gateway.
    spec()
    recorder = ContractRecorder()

    @app.after_request
    def _validate(response: Response) -> Response:
        # Unrouted requests (unknown path, wrong method) have no operation to check against.
        if not request.path.startswith("/api/") or request.url_rule is None:
            return response
        if response.status_code == 413:
            return response  # the adapter would read the oversized body it was refused for
        recorder.checked += 1
        try:
            spec().validate_response(FlaskOpenAPIRequest(request), WerkzeugOpenAPIResponse(response))
        except Exception as e:  # any failure of the contract is a finding, whatever its type
            recorder.violations.append(
                f"{request.method} {request.path} -> {response.status_code}: {_explain(e)}"
            )
        return response

    return recorder
