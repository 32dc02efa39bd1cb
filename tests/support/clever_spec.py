"""Check the simulated Clever against Clever's own Swagger 2.0 specs (https://github.com/Clever/swagger-api).

:func:`attach` adds an ``after_request`` hook to the simulator: every response to a path the specs describe
is validated against the declared ``responses`` schema for its status (``$ref`` resolved to ``#/definitions``
and ``#/responses``), and JSON request bodies against the ``in: body`` parameter schema, so the gateway's
client is checked too. Swagger 2 is not JSON Schema, so schemas are converted first:

* ``x-nullable: true`` → also accept ``null``;
* ``discriminator`` (``Event`` → ``users.created`` and the like) → the event is checked against the subtype
  its ``type`` names as well;
* Clever's formats ``datetime``, ``date`` and ``mongo-id`` are checked.

Clever's schemas declare nothing ``required``, allow any extra property, and ``Roles`` has no ``type``: read
as written, they accept almost anything (``{"dta": {"idd": 1}}`` for a user). The tests therefore use the
**strict** reading (``strict=True``, the default):

* every schema with ``properties`` is ``type: object`` and takes no property it does not declare;
* ``allOf`` compositions (the event subtypes) are merged into one object before that rule applies, and an event
  must name one of the subtypes (``users.created`` ...); only ``*.updated`` events carry ``previous_attributes``;
* the envelopes the specs' examples and Clever's docs show are required: ``data`` in every ``*Response``,
  ``links`` in list responses (unless ``x-omitempty``), ``object`` in an event's ``data``; and the fields Clever
  documents as guaranteed (:data:`GUARANTEED`).

A status the spec does not declare (Clever documents 401, 429 and 5xx outside the specs) must carry Clever's
generic error body ``{"message": string}``. Bodies the simulator sends off-spec on purpose (HTML for a wrong
token, a test's override) are counted as skipped.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from flask import Flask, Response, g, request

# Clever's specs are not vendored (the upstream repository carries no licence). They are read from
# GATEWAY_CLEVER_SPEC_DIR, else from ``shared/reference/clever`` beside the checkout (the project's CI keeps
# them there). A clone without it runs every Clever test against the simulator unchecked and skips the tests
# of the checker itself (both say so); under CI=true a missing folder fails instead.
SPEC_DIR = Path(
    os.environ.get("GATEWAY_CLEVER_SPEC_DIR")
    or Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "clever"
)
SPEC_FILES = ("v3.0.yml", "v3.1.yml", "v3.1-events.yml", "v3.1-lms.yml", "v3.0-events.yml")
MISSING_REASON = (f"Clever's published specs are not at {SPEC_DIR} (set GATEWAY_CLEVER_SPEC_DIR to a folder holding "
                  f"{', '.join(SPEC_FILES)}): the simulated Clever's answers are not checked against them")


def specs_available() -> bool:
    return all((SPEC_DIR / name).is_file() for name in SPEC_FILES)


def require_specs() -> None:
    """Skip a test that checks against Clever's specs when they are absent; under CI=true, fail."""
    if specs_available():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{MISSING_REASON}; CI=true needs them")
    pytest.skip(MISSING_REASON)
ERROR_BODY = {"type": "object", "required": ["message"], "properties": {"message": {"type": "string"}}}
_MONGO_ID = re.compile(r"^[0-9a-f]{24}$")

formats = jsonschema.FormatChecker()


@formats.checks("datetime", raises=ValueError)
def _datetime(value: object) -> bool:
    if isinstance(value, str):
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


@formats.checks("date", raises=ValueError)
def _date(value: object) -> bool:
    if isinstance(value, str):
        dt.date.fromisoformat(value)
    return True


@formats.checks("mongo-id")
def _mongo_id(value: object) -> bool:
    return not isinstance(value, str) or bool(_MONGO_ID.match(value))


# Fields Clever says are always there (its Users, Events and LMS Connect docs); ids on every record.
# A user's `district` is guaranteed for district data only: a Library token sees no district.
GUARANTEED: dict[str, tuple[str, ...]] = {
    "User": ("id", "name", "created", "last_modified"),
    "Name": ("first", "last"),
    "District": ("id", "name"),
    "School": ("id", "district", "name"),
    "Section": ("id", "district"),
    "Term": ("id", "district"),
    "Course": ("id", "district"),
    "Event": ("id", "type", "created"),
    "Assignment": ("id", "created", "last_modified", "title", "state"),
    "Submission": ("assignment_id", "user_id", "created", "last_modified"),
    "Link": ("rel", "uri"),
    "SubmissionsLink": ("rel", "uri"),
}


def convert(schema: Any, strict: bool = False) -> Any:
    """Swagger 2.0 schema → JSON Schema (draft 7); ``strict`` closes objects (see the module docstring)."""
    if isinstance(schema, list):
        return [convert(item, strict) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: convert(v, strict) if k != "properties" else {n: convert(p, strict) for n, p in v.items()}
           for k, v in schema.items() if not k.startswith("x-") and k != "discriminator"}
    if "$ref" in out:
        # Draft 7 ignores keywords beside $ref; keep the reference alone.
        out = {"$ref": out["$ref"]}
    elif strict and "properties" in out:
        out.setdefault("type", "object")
        out.setdefault("additionalProperties", False)
    if schema.get("x-nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


def _strict_definitions(definitions: dict[str, Any]) -> dict[str, Any]:
    """Merge ``allOf`` parts into one object and add the required keys (raw Swagger in, raw Swagger out)."""
    out = copy.deepcopy(definitions)
    for name, schema in definitions.items():
        if "allOf" not in schema:
            continue
        merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        for part in schema["allOf"]:
            if "$ref" in part:
                part = definitions[part["$ref"].rsplit("/", 1)[1]]
            merged["properties"].update(copy.deepcopy(part.get("properties", {})))
            merged["required"] += [r for r in part.get("required", []) if r not in merged["required"]]
        out[name] = merged
    for name, schema in out.items():
        props = schema.get("properties", {})
        wanted = list(GUARANTEED.get(name, ()))
        if "allOf" in definitions.get(name, {}):
            wanted += [k for k in GUARANTEED["Event"] if k in props] + (["data"] if "data" in props else [])
        if name.endswith("Response"):
            wanted += [k for k in ("data", "links") if k in props and not props[k].get("x-omitempty")]
        if name.endswith("Object") and "object" in props:
            wanted.append("object")
        if wanted:
            schema["required"] = list(dict.fromkeys([*schema.get("required", []), *wanted]))
    return out


def _with_discriminators(definitions: dict[str, Any], strict: bool) -> dict[str, Any]:
    """A base with ``discriminator: type`` dispatches to the subtype named by ``type``."""
    raw = _strict_definitions(definitions) if strict else definitions
    converted = {name: convert(schema, strict) for name, schema in raw.items()}
    for base, schema in definitions.items():
        if schema.get("discriminator") != "type":
            continue
        ref = f"#/definitions/{base}"
        subtypes = [name for name, sub in definitions.items()
                    if any(isinstance(p, dict) and p.get("$ref") == ref for p in sub.get("allOf", []))]
        dispatch = [{"if": {"properties": {"type": {"const": s}}, "required": ["type"]},
                     "then": {"$ref": f"#/definitions/{s}"}} for s in subtypes]
        if strict:
            # Each subtype is whole (merged) and closed: the base only insists on a known type.
            converted[base] = {"type": "object", "required": ["type"],
                               "properties": {"type": {"enum": subtypes}}, "allOf": dispatch}
            continue
        plain = f"{base}__base"
        converted[plain] = converted[base]
        for name in subtypes:
            text = json.dumps(converted[name]).replace(f'"{ref}"', f'"#/definitions/{plain}"')
            converted[name] = json.loads(text)
        converted[base] = {"allOf": [{"$ref": f"#/definitions/{plain}"}, *dispatch]}
    return converted


@dataclass(frozen=True)
class Operation:
    spec: str
    path: str  # the spec's template, with its basePath
    pattern: re.Pattern[str]
    method: str
    responses: dict[str, Any]
    body_schema: Any
    root: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


@functools.cache
def _spec(filename: str) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: the specs are large
    loaded: dict[str, Any] = yaml.load((SPEC_DIR / filename).read_text(), Loader=loader)  # noqa: S506  # safe
    return loaded


@functools.cache
def operations(strict: bool = True) -> tuple[Operation, ...]:
    ops: list[Operation] = []
    for filename in SPEC_FILES:
        spec = _spec(filename)
        root = {"definitions": _with_discriminators(spec["definitions"], strict)}
        shared = spec.get("responses", {})
        for path, item in spec["paths"].items():
            regex = re.escape(spec["basePath"] + path)
            regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", regex)
            for method, op in item.items():
                responses = {}
                for status, resp in op.get("responses", {}).items():
                    if "$ref" in resp:
                        resp = shared[resp["$ref"].rsplit("/", 1)[1]]
                    responses[status] = convert(resp.get("schema"), strict) if resp.get("schema") else None
                body = next((p["schema"] for p in op.get("parameters", []) if p.get("in") == "body"), None)
                ops.append(Operation(filename, spec["basePath"] + path, re.compile(f"^{regex}$"), method.upper(),
                                     responses, convert(body, strict) if body else None, root))
    # Literal paths before templated ones (/sections/{id}/users beats /sections/{id}).
    ops.sort(key=lambda o: o.pattern.pattern.count("[^/]+"))
    return tuple(ops)


def find(method: str, path: str, *, strict: bool = True) -> list[Operation]:
    return [op for op in operations(strict) if op.method == method and op.pattern.match(path)]


def validate(schema: Any, root: dict[str, Any], instance: Any) -> None:
    full = {**copy.deepcopy(schema), "definitions": root["definitions"]} if isinstance(schema, dict) else schema
    # best_match picks the deepest error: "'14' is not one of [...]" rather than "not valid under anyOf".
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft7Validator(full, format_checker=formats).iter_errors(instance)
    )
    if error is not None:
        raise error


def check(method: str, path: str, status: int, body: Any, request_body: Any = None, *,
          strict: bool = True) -> str | None:
    """None when the response (and request body) fit the spec; otherwise why not. Raises LookupError off-spec."""
    matches = find(method, path, strict=strict)
    if not matches:
        raise LookupError(path)
    op = matches[0]
    try:
        if request_body is not None and op.body_schema is not None:
            validate(op.body_schema, op.root, request_body)
        if str(status) in op.responses:
            schema = op.responses[str(status)]
            if schema is not None:
                validate(schema, op.root, body)
        else:
            validate(ERROR_BODY, op.root, body)
    except jsonschema.ValidationError as e:
        where = "/".join(str(p) for p in e.absolute_path)
        return f"{op.spec} {method} {path} -> {status}: {e.message} at {where or '(root)'}"
    return None


@dataclass
class SpecRecorder:
    checked: int = 0
    skipped: int = 0
    violations: list[str] = field(default_factory=list)
    paths: set[str] = field(default_factory=set)
    # Spec operations ("GET /v3.1/users/{id}") that answered 2xx and were checked.
    operations: set[str] = field(default_factory=set)

    enabled: bool = True  # False: the specs are absent, nothing is checked (see MISSING_REASON)

    def assert_clean(self) -> None:
        assert not self.violations, "simulated Clever broke Clever's specs:\n" + "\n".join(self.violations)


def attach(app: Flask) -> SpecRecorder:
    """Check every answer of the simulated Clever on a spec path; without the specs, check nothing (CI=true fails)."""
    if not specs_available():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{MISSING_REASON}; CI=true needs them")
        return SpecRecorder(enabled=False)
    recorder = SpecRecorder()

    @app.after_request
    def _validate(response: Response) -> Response:
        if not find(request.method, request.path):
            return response
        if g.get("sim_off_spec"):
            recorder.skipped += 1
            return response
        body: Any = None
        if response.get_data():
            try:
                body = json.loads(response.get_data())
            except ValueError:
                recorder.violations.append(f"{request.method} {request.path} -> {response.status_code}: not JSON")
                return response
        request_body = request.get_json(silent=True) if request.method in ("POST", "PATCH") else None
        problem = check(request.method, request.path, response.status_code, body, request_body)
        recorder.checked += 1
        recorder.paths.add(f"{request.method} {request.path}")
        if response.status_code < 300:
            recorder.operations.add(find(request.method, request.path)[0].name)
        if problem:
            recorder.violations.append(problem)
        return response

    return recorder
