"""The test tree mirrors the code: every folder under tests/unit and tests/integration is named after a package
or top-level module of gateway/, so a test is found where its code is (and milestone names cannot creep back)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GATEWAY = REPO / "gateway"

# Folders named after code that is not (or not yet) a gateway package, each with the reason it may exist.
NOT_IN_GATEWAY = {
    "sandbox": "the simulated LMS, Clever and vendor pages: a package of its own beside gateway/, never in production",
    "deploy": "the deployment as a whole (compose.yaml; replicas and workers on one database): no one package's",
    "bench": "the benchmarks (`make bench`): beside gateway/, never in production; only their arithmetic is tested",
}


def code_names(root: Path = GATEWAY) -> set[str]:
    """The names a test folder may take: the packages and top-level modules under ``root``."""
    packages = {p.parent.name for p in root.glob("*/__init__.py")}
    modules = {p.stem for p in root.glob("*.py") if not p.stem.startswith("_")}
    return packages | modules


def strays(tests: Path, code: Path = GATEWAY) -> list[str]:
    """Folders under ``tests`` that name neither code under ``code`` nor an allowed exception."""
    allowed = code_names(code) | NOT_IN_GATEWAY.keys()
    return sorted(p.name for p in tests.iterdir() if p.is_dir() and p.name != "__pycache__" and p.name not in allowed)


@pytest.mark.parametrize("kind", ["unit", "integration"])
def test_every_test_folder_is_named_after_code(kind: str) -> None:
    found = strays(REPO / "tests" / kind)
    assert not found, f"tests/{kind}/{found} name no package or module of gateway/: name them after what they test"


@pytest.mark.parametrize("kind", ["unit", "integration"])
def test_no_test_file_sits_outside_a_code_folder(kind: str) -> None:
    loose = sorted(p.name for p in (REPO / "tests" / kind).glob("test_*.py"))
    assert not loose, f"move tests/{kind}/{loose} into the folder of the package or module they test"


def test_a_milestone_folder_is_a_stray(tmp_path: Path) -> None:
    code, tests = tmp_path / "gateway", tmp_path / "tests"
    (code / "lti").mkdir(parents=True)
    (code / "lti" / "__init__.py").touch()
    (code / "settings.py").touch()
    for name in ("lti", "settings", "sandbox", "lti_admin", "foundation"):
        (tests / name).mkdir(parents=True)
    assert strays(tests, code) == ["foundation", "lti_admin"]
