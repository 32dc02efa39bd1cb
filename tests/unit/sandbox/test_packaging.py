"""The sandbox stays out of the product: not in the Docker image, not imported by the gateway, a dev plugin only."""

from __future__ import annotations

import ast
import json
import re
import shlex
import tomllib
from importlib.metadata import entry_points
from pathlib import Path, PurePosixPath

import pytest

from gateway.app import DEV_PLUGIN_GROUP

REPO = Path(__file__).resolve().parents[3]


def _context_sources(dockerfile: str) -> list[str]:
    """Every path a COPY or ADD takes from the build context (``--from`` copies between stages are left out)."""
    sources: list[str] = []
    for line in re.sub(r"\\\n", " ", dockerfile).splitlines():
        keyword, _, rest = line.strip().partition(" ")
        if keyword.upper() not in ("COPY", "ADD"):
            continue
        rest = rest.strip()
        args = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
        flags = [a for a in args if a.startswith("--")]
        if any(flag.startswith("--from") for flag in flags):
            continue
        sources += [a for a in args if not a.startswith("--")][:-1]
    return sources


def _ships_the_sandbox(source: str) -> bool:
    parts = PurePosixPath(source).parts  # "./" and "." have no parts: the whole context
    return not parts or parts[0] in ("/", "sandbox") or any(ch in parts[0] for ch in "*?[")


def test_the_image_copies_the_gateway_and_not_the_sandbox() -> None:
    sources = _context_sources((REPO / "Dockerfile").read_text())
    assert "gateway" in [PurePosixPath(s).parts[0] for s in sources if PurePosixPath(s).parts]
    assert [s for s in sources if _ships_the_sandbox(s)] == []


def test_the_build_context_leaves_the_sandbox_out() -> None:
    ignored = {line.strip().strip("/") for line in (REPO / ".dockerignore").read_text().splitlines()}
    assert {"sandbox", "tests"} <= ignored


@pytest.mark.parametrize(
    "dockerfile",
    [
        "COPY . .",
        "COPY ./ /src/",
        "COPY --chown=gateway:gateway . /srv/gateway",
        "ADD . /src",
        "COPY * /src/",
        "COPY sandbox ./sandbox",
        "COPY ./sandbox/ /src/sandbox/",
        'COPY ["gateway", "sandbox", "/src/"]',
        "COPY pyproject.toml \\\n    sandbox /src/",
    ],
)
def test_the_check_catches_a_copy_that_ships_the_sandbox(dockerfile: str) -> None:
    assert any(_ships_the_sandbox(s) for s in _context_sources("FROM python:3.11-slim\n" + dockerfile))


def test_the_check_leaves_stage_copies_alone() -> None:
    assert _context_sources("COPY --from=build /install /usr/local\nCOPY gateway ./gateway") == ["gateway"]


def test_the_sandbox_is_a_dev_plugin_of_the_package() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["project"]["entry-points"][DEV_PLUGIN_GROUP] == {"sandbox": "sandbox.plugin:mount"}
    assert "sandbox*" in project["tool"]["setuptools"]["packages"]["find"]["include"]


def test_the_installed_entry_point_loads_the_plugin() -> None:
    from sandbox.plugin import mount

    assert [entry.load() for entry in entry_points(group=DEV_PLUGIN_GROUP)] == [mount]


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):  # function-level imports count too
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_the_gateway_never_imports_the_sandbox() -> None:
    offenders = {
        str(path.relative_to(REPO)): sorted(m for m in _imported_modules(path) if m.split(".")[0] == "sandbox")
        for path in (REPO / "gateway").rglob("*.py")
    }
    assert {path: mods for path, mods in offenders.items() if mods} == {}
