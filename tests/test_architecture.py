"""The shape of the package: features talk to each other only through their public surface.

``lint-imports`` (pyproject ``[tool.importlinter]``, run by the test command) checks cycles, layers, who may
import ``feature.py`` and that protocol cores know nothing of Flask. This checks what import-linter has no
contract for: an import from one feature into another names the other package or a name in its ``__all__``.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import grimp
import pytest

from gateway.bootstrap import FEATURES as FEATURE_CLASSES

# The packages of the composition root's features; gateway.api is the toolkit every feature uses (auth, params,
# paging) and has a feature for its own routes, but no surface other packages are held to.
FEATURES = tuple(sorted({cls.__module__.split(".")[1] for cls in FEATURE_CLASSES} - {"api"}))


def _feature_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "gateway" and parts[1] in FEATURES else None


def _public(feature: str) -> set[str]:
    package = importlib.import_module(f"gateway.{feature}")
    return {f"gateway.{feature}"} | {f"gateway.{feature}.{name}" for name in getattr(package, "__all__", ())}


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("gateway")


def cross_feature_imports(graph: grimp.ImportGraph) -> list[tuple[str, str]]:
    found = []
    for importer in sorted(graph.modules):
        source = _feature_of(importer)
        if source is None:
            continue
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            target = _feature_of(imported)
            if target is not None and target != source:
                found.append((importer, imported))
    return found


def test_features_import_each_other_only_through_their_public_surface(graph: grimp.ImportGraph) -> None:
    private = [(importer, imported) for importer, imported in cross_feature_imports(graph)
               if imported not in _public(imported.split(".")[1])]
    assert private == [], "import the other feature's package (names in its __all__), not its modules"


def test_the_check_sees_cross_feature_imports(graph: grimp.ImportGraph) -> None:
    # The rule above is only worth something if the graph holds such imports: identity uses LTI's launch types.
    assert ("gateway.identity.launches", "gateway.lti") in cross_feature_imports(graph)


def test_every_public_name_exists() -> None:
    for feature in FEATURES:
        package = importlib.import_module(f"gateway.{feature}")
        for name in getattr(package, "__all__", ()):
            assert hasattr(package, name), f"gateway.{feature}.__all__ names {name}, which it does not define"


def test_every_table_belongs_to_a_feature(tmp_path: Path) -> None:
    from gateway.bootstrap import bootstrap, registered_tables
    from gateway.settings import load_settings
    from gateway.store.models import Base

    services = bootstrap(load_settings(environ={}, database_url=f"sqlite:///{tmp_path}/x.db"))
    try:
        owned = registered_tables(services.features)
    finally:
        services.close()
    assert owned  # the features name their model modules
    assert set(Base.metadata.tables) - owned == set(), "add the table's module to its feature's `models`"


def _contracts() -> list[dict[str, object]]:
    import tomllib

    repo = Path(__file__).resolve().parents[1]
    contracts: list[dict[str, object]] = tomllib.loads((repo / "pyproject.toml").read_text())["tool"]["importlinter"][
        "contracts"]
    return contracts


def test_every_feature_module_is_protected() -> None:
    # A new feature's feature.py must be for the composition root only, like the others.
    protected = next(c["protected_modules"] for c in _contracts() if c["type"] == "protected")
    assert set(protected) == {cls.__module__ for cls in FEATURE_CLASSES}


def test_every_package_and_module_of_gateway_has_a_layer() -> None:
    # A package missing from the layers contract would be checked by nothing; adding one means placing it.
    import tomllib

    repo = Path(__file__).resolve().parents[1]
    contracts = tomllib.loads((repo / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers = next(c["layers"] for c in contracts if c["type"] == "layers")
    listed = {name.strip() for row in layers for name in row.split("|")}
    code = {f"gateway.{p.stem}" for p in (repo / "gateway").glob("*.py") if p.stem != "__init__"}
    code |= {f"gateway.{p.parent.name}" for p in (repo / "gateway").glob("*/__init__.py")}
    assert code - listed == set()


def test_no_module_imports_its_own_package() -> None:
    # `from gateway.lti import claims` inside gateway/lti runs gateway/lti/__init__.py, which imports the package's
    # modules back: a cycle that works only by import order. Inside a package, name the module itself.
    import ast

    repo = Path(__file__).resolve().parents[1]
    found = []
    for path in (repo / "gateway").glob("*/**/*.py"):
        if path.name == "__init__.py":
            continue
        package = "gateway." + path.relative_to(repo / "gateway").parts[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == package:
                found.append(f"{path.relative_to(repo)}:{node.lineno}")
    assert found == []
