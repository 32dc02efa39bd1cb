"""The API reference: ``openapi.yaml`` as shipped in the package, and a readable HTML page rendered from it.

The page is rendered here, on the server, from the document alone: no script, no stylesheet or font from
anywhere, so it works offline and under the gateway's Content-Security-Policy. Operations are grouped by tag;
each lists its parameters, body and answers, and every named schema is a table of its fields at the end.

``gateway/api/openapi.yaml`` is a link to the repository's ``openapi.yaml`` (the one contract the tests check),
so an installed wheel or the Docker image carries the same bytes as package data.
"""

from __future__ import annotations

import functools
import re
from html import escape
from importlib.resources import files
from typing import Any

import yaml

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:64rem;padding:1rem 1.5rem;color:#1f2933;"
    "line-height:1.45}code{background:#f1f3f5;padding:0 .2rem;border-radius:3px}"
    "table{border-collapse:collapse;margin:.4rem 0 .8rem;width:100%}"
    "td,th{border:1px solid #d8dee4;padding:.25rem .5rem;"
    "text-align:left;vertical-align:top;font-size:.92rem}section.op{border:1px solid #d8dee4;border-radius:6px;"
    "padding:.1rem 1rem .5rem;margin:1rem 0}.m{display:inline-block;min-width:4.2rem;font-weight:700;"
    "text-transform:uppercase}.get{color:#1a7f37}.post{color:#0969da}.put,.patch{color:#9a6700}.delete{color:#cf222e}"
    "nav li{margin:.1rem 0}h3{font-family:ui-monospace,monospace;font-size:1.05rem}"
)


def document_text() -> str:
    """``openapi.yaml``, byte for byte as the package ships it."""
    return files("gateway.api").joinpath("openapi.yaml").read_text(encoding="utf-8")


@functools.cache
def page_html() -> str:
    """The reference page (rendered once per process: the document does not change while it runs)."""
    spec: dict[str, Any] = yaml.safe_load(document_text())
    return render(spec)


def _prose(text: str | None) -> str:
    """A description's paragraphs, with `code` and **bold** kept (the only markup the document uses much)."""
    if not text:
        return ""
    paragraphs = [p.strip() for p in text.strip().split("\n\n") if p.strip()]

    def inline(p: str) -> str:
        return _BOLD.sub(r"<strong>\1</strong>", _CODE.sub(r"<code>\1</code>", escape(p, quote=False)))

    return "".join(f"<p>{inline(' '.join(p.split()))}</p>" for p in paragraphs)


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (``#/components/...``) to what it names."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def type_of(schema: Any) -> str:
    """A schema in a few words of HTML: a named schema links to its table."""
    if not isinstance(schema, dict):
        return ""
    if "$ref" in schema:
        name = escape(_ref_name(schema["$ref"]))
        return f'<a href="#schema-{name}">{name}</a>'
    for combinator, joiner in (("oneOf", " or "), ("anyOf", " or "), ("allOf", " and ")):
        if combinator in schema:
            return joiner.join(type_of(s) for s in schema[combinator])
    if "const" in schema:
        return f"<code>{escape(repr(schema['const']))}</code>"
    if "enum" in schema:
        return "one of " + ", ".join(f"<code>{escape(str(v))}</code>" for v in schema["enum"])
    kind = schema.get("type", "any")
    kinds = kind if isinstance(kind, list) else [kind]
    words = []
    for k in kinds:
        if k == "array":
            words.append("array of " + (type_of(schema.get("items")) or "any"))
        else:
            words.append(escape(str(k)) + (f" ({escape(str(schema['format']))})" if "format" in schema else ""))
    return " or ".join(words)


def _fields(schema: dict[str, Any]) -> str:
    properties: dict[str, Any] = schema.get("properties") or {}
    if not properties:
        return f"<p>{type_of(schema)}</p>" if schema.get("type") != "object" else "<p>object</p>"
    required = set(schema.get("required") or ())
    rows = "".join(
        f"<tr><td><code>{escape(name)}</code>{' <small>required</small>' if name in required else ''}</td>"
        f"<td>{type_of(prop)}</td><td>{_prose(prop.get('description') if isinstance(prop, dict) else None)}</td></tr>"
        for name, prop in properties.items()
    )
    return f"<table><tr><th>Field</th><th>Type</th><th>Meaning</th></tr>{rows}</table>"


def _parameters(spec: dict[str, Any], operation: dict[str, Any], shared: list[Any]) -> str:
    params = [_resolve(spec, p) for p in [*shared, *(operation.get("parameters") or [])]]
    if not params:
        return ""
    rows = "".join(
        f"<tr><td><code>{escape(p['name'])}</code>{' <small>required</small>' if p.get('required') else ''}</td>"
        f"<td>{escape(p.get('in', ''))}</td><td>{type_of(p.get('schema'))}</td><td>{_prose(p.get('description'))}</td>"
        "</tr>"
        for p in params
    )
    return f"<h4>Parameters</h4><table><tr><th>Name</th><th>In</th><th>Type</th><th>Meaning</th></tr>{rows}</table>"


def _body(spec: dict[str, Any], operation: dict[str, Any]) -> str:
    body = operation.get("requestBody")
    if not body:
        return ""
    body = _resolve(spec, body)
    parts = [f"<h4>Body{' (required)' if body.get('required') else ''}</h4>{_prose(body.get('description'))}"]
    for media, content in (body.get("content") or {}).items():
        schema = content.get("schema") or {}
        shown = type_of(schema) if "$ref" in schema else _fields(schema)
        parts.append(f"<p><code>{escape(media)}</code></p>{shown}")
    return "".join(parts)


def _responses(spec: dict[str, Any], operation: dict[str, Any]) -> str:
    rows = []
    for status, answer in sorted((operation.get("responses") or {}).items(), key=lambda kv: str(kv[0])):
        answer = _resolve(spec, answer)
        kinds = ", ".join(
            f"<code>{escape(media)}</code> {type_of(content.get('schema'))}"
            for media, content in (answer.get("content") or {}).items()
        )
        rows.append(f"<tr><td>{escape(str(status))}</td><td>{_prose(answer.get('description'))}</td>"
                    f"<td>{kinds}</td></tr>")
    return f"<h4>Answers</h4><table><tr><th>Status</th><th>When</th><th>Body</th></tr>{''.join(rows)}</table>"


def _operation(spec: dict[str, Any], path: str, method: str, operation: dict[str, Any], shared: list[Any]) -> str:
    anchor = escape(operation.get("operationId") or f"{method}-{path}", quote=True)
    return (
        f'<section class="op" id="op-{anchor}"><h3><span class="m {method}">{method}</span> {escape(path)}</h3>'
        f"<p><strong>{escape(operation.get('summary', ''))}</strong></p>{_prose(operation.get('description'))}"
        f"{_parameters(spec, operation, shared)}{_body(spec, operation)}{_responses(spec, operation)}"
        "</section>"
    )


def render(spec: dict[str, Any]) -> str:
    info = spec.get("info") or {}
    tags = [t["name"] for t in spec.get("tags") or []]
    described = {t["name"]: t.get("description") for t in spec.get("tags") or []}
    by_tag: dict[str, list[str]] = {}
    index: dict[str, list[str]] = {}
    for path, item in (spec.get("paths") or {}).items():
        shared = item.get("parameters") or []
        for method in HTTP_METHODS:
            if method not in item:
                continue
            operation = item[method]
            tag = (operation.get("tags") or ["other"])[0]
            by_tag.setdefault(tag, []).append(_operation(spec, path, method, operation, shared))
            anchor = escape(operation.get("operationId") or f"{method}-{path}", quote=True)
            index.setdefault(tag, []).append(
                f'<li><a href="#op-{anchor}"><span class="m {method}">{method}</span> {escape(path)}</a></li>')
    order = [t for t in tags if t in by_tag] + [t for t in by_tag if t not in tags]
    nav = "".join(f'<li><a href="#tag-{escape(t, quote=True)}">{escape(t)}</a><ul>{"".join(index[t])}</ul></li>'
                  for t in order)
    sections = "".join(
        f'<h2 id="tag-{escape(t, quote=True)}">{escape(t)}</h2>{_prose(described.get(t))}{"".join(by_tag[t])}'
        for t in order
    )
    schemas = "".join(
        f'<h3 id="schema-{escape(name, quote=True)}">{escape(name)}</h3>{_prose(s.get("description"))}{_fields(s)}'
        for name, s in ((spec.get("components") or {}).get("schemas") or {}).items()
    )
    title = escape(str(info.get("title", "API")))
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{title} <small>{escape(str(info.get('version', '')))}</small></h1>"
        f"<p><strong>{escape(str(info.get('summary', '')))}</strong></p>{_prose(info.get('description'))}"
        '<p>The same document for tools and code generators: <a href="/openapi.yaml">openapi.yaml</a>.</p>'
        f"<h2>Contents</h2><nav><ul>{nav}</ul></nav>{sections}<h2 id=\"schemas\">Schemas</h2>{schemas}</body></html>"
    )
