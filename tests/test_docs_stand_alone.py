"""The README and docs/ name no file outside the repository: whoever clones only this repository must be able to
follow every pointer. The one mention allowed is the documented default of the test-only setting that finds
Clever's published specs (a folder the project's CI keeps beside the checkout)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", REPO / "CHANGES.md", *sorted((REPO / "docs").glob("*.md"))]
# The project's reference notes and anything reached by climbing out of the checkout.
OUTSIDE = re.compile(r"(?<!\.)\.\./|lti-brief|clever-brief|vendor-api-anchors|DESIGN\.md|STYLE\.md|shared/reference")
ALLOWED = "GATEWAY_CLEVER_SPEC_DIR"  # the setting's documented default names the folder


def pointers_outside(text: str) -> list[str]:
    """Lines of ``text`` that point outside the repository (a paragraph documenting the spec setting excepted)."""
    found = []
    for paragraph in text.split("\n\n"):
        if ALLOWED in paragraph:
            continue
        found += [line.strip() for line in paragraph.splitlines() if OUTSIDE.search(line)]
    return found


def test_the_docs_point_at_nothing_outside_the_repository() -> None:
    offending = {doc.name: pointers_outside(doc.read_text()) for doc in DOCS}
    assert {name: lines for name, lines in offending.items() if lines} == {}


def test_the_check_finds_a_pointer_outside() -> None:
    assert pointers_outside("See shared/reference/lti-brief.md §5.") == ["See shared/reference/lti-brief.md §5."]
    assert pointers_outside("Set GATEWAY_CLEVER_SPEC_DIR; default `shared/reference/clever`.") == []
