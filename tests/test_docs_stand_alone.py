"""The README, docs/ and every tracked source file name no file outside the repository: whoever clones only this
repository must be able to follow every pointer. The one mention allowed is the documented default of the test-only
setting that finds Clever's published specs (a folder the project's CI keeps beside the checkout)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", REPO / "CHANGES.md", *sorted((REPO / "docs").glob("*.md"))]
# The project's reference notes and anything reached by climbing out of the checkout.
OUTSIDE = re.compile(
    r"(?<!\.)\.\./|lti-brief|clever-brief|vendor-api-anchors|DESIGN\.md|STYLE\.md|shared/reference|\bbrief §"
)
ALLOWED = "GATEWAY_CLEVER_SPEC_DIR"  # the setting's documented default names the folder
SOURCE_SUFFIXES = {".py", ".toml", ".sh", ".yaml", ".html"}
# Exact text a source file may hold although it matches OUTSIDE; any other match on the same line still counts.
ALLOWED_IN_SOURCE: dict[str, tuple[str, ...]] = {
    # The code that reads GATEWAY_CLEVER_SPEC_DIR documents its default folder.
    "tests/support/clever_spec.py": ("else from ``shared/reference/clever`` beside the checkout",),
    # A path-traversal attempt the login must refuse, not a pointer.
    "tests/integration/clever/test_login.py": ("district_id=../../x",),
}
THIS_FILE = "tests/test_docs_stand_alone.py"  # its patterns and examples name what they look for


def pointers_outside(text: str) -> list[str]:
    """Lines of ``text`` that point outside the repository (a paragraph documenting the spec setting excepted)."""
    found = []
    for paragraph in text.split("\n\n"):
        if ALLOWED in paragraph:
            continue
        found += [line.strip() for line in paragraph.splitlines() if OUTSIDE.search(line)]
    return found


def source_pointers_outside(text: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """Lines of a source file that point outside the repository once the ``allowed`` texts are taken out."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        rest = line
        for text_allowed in allowed:
            rest = rest.replace(text_allowed, "")
        if OUTSIDE.search(rest):
            found.append(f"{number}: {line.strip()}")
    return found


UNTRACKED_DIRS = {".git", ".venv", "var", "keys", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache",
                  ".pytest_cache"}


def _listed_files() -> list[str]:
    """The tracked files; in a copy without git (an unpacked archive), every file outside build and run folders."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        return [
            str(path.relative_to(REPO)) for path in REPO.rglob("*")
            if path.is_file() and not UNTRACKED_DIRS.intersection(path.relative_to(REPO).parts)
        ]
    return [path for path in listed.stdout.split("\0") if path]


def tracked_sources() -> list[str]:
    """Every tracked *.py, *.toml, *.sh, *.yaml, *.html file and Makefile, as paths relative to the repository."""
    return sorted(
        path for path in _listed_files()
        if (Path(path).suffix in SOURCE_SUFFIXES or Path(path).name == "Makefile") and path != THIS_FILE
    )


def test_the_docs_point_at_nothing_outside_the_repository() -> None:
    offending = {doc.name: pointers_outside(doc.read_text()) for doc in DOCS}
    assert {name: lines for name, lines in offending.items() if lines} == {}


def test_the_sources_point_at_nothing_outside_the_repository() -> None:
    sources = tracked_sources()
    assert "gateway/app.py" in sources and "Makefile" in sources and "pyproject.toml" in sources
    offending = {
        path: source_pointers_outside((REPO / path).read_text(), ALLOWED_IN_SOURCE.get(path, ()))
        for path in sources
    }
    assert {path: lines for path, lines in offending.items() if lines} == {}


def test_every_allowance_is_still_used() -> None:
    for path, texts in ALLOWED_IN_SOURCE.items():
        content = (REPO / path).read_text()
        assert all(text in content for text in texts), path


def test_the_check_finds_a_pointer_outside() -> None:
    assert pointers_outside("See shared/reference/lti-brief.md §5.") == ["See shared/reference/lti-brief.md §5."]
    assert pointers_outside("Set GATEWAY_CLEVER_SPEC_DIR; default `shared/reference/clever`.") == []
    assert pointers_outside("Codes live a minute (brief §1.11).") == ["Codes live a minute (brief §1.11)."]
    assert source_pointers_outside('x = 1\n# as the brief says (clever-brief §4.3)\n') == [
        "2: # as the brief says (clever-brief §4.3)"
    ]
    default = "else from ``shared/reference/clever`` beside the checkout"
    assert source_pointers_outside(f"# {default}.", (default,)) == []
    assert source_pointers_outside(f"# {default}; see shared/reference/clever/v3.1.yml", (default,)) != []
