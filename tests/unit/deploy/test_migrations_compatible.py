"""Upgrades without downtime: each migration leaves a schema the previous release still runs on.

During a rolling upgrade the release step (``gateway db upgrade``) runs while the previous release's replicas
and workers still serve, so a migration may only *expand* the schema: new tables, new nullable columns (or with a
server default), new indexes. What the previous release reads or writes must not disappear or tighten in the same
release: dropping or renaming a table or column, or making a column NOT NULL, waits for a later release, once no
running code uses it (README "Deploy", "Upgrades without downtime"). A migration that must break the rule says so
with a module-level ``CONTRACTS_PREVIOUS_RELEASE = "<why it is safe>"``, which this check then accepts.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

VERSIONS = Path(__file__).resolve().parents[3] / "gateway" / "store" / "migrations" / "versions"
BREAKING_OPS = {"drop_table", "drop_column", "rename_table", "drop_constraint"}


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _is_false(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def breaking_operations(source: str) -> list[str]:
    """What ``upgrade()`` does that the previous release cannot run beside, as ``op.<name>`` at line N."""
    tree = ast.parse(source)
    if any(isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "CONTRACTS_PREVIOUS_RELEASE"
                                             for t in n.targets) for n in tree.body):
        return []
    upgrade = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade"), None)
    if upgrade is None:
        return []
    found = []
    for node in ast.walk(upgrade):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        name = node.func.attr
        if name in BREAKING_OPS:
            found.append(f"{name} at line {node.lineno}")
        elif name == "alter_column" and (_keyword(node, "new_column_name") is not None
                                         or _is_false(_keyword(node, "nullable"))):
            found.append(f"{name} (rename or NOT NULL) at line {node.lineno}")
        elif name == "add_column":
            column = node.args[1] if len(node.args) > 1 else None
            if (isinstance(column, ast.Call) and _is_false(_keyword(column, "nullable"))
                    and _keyword(column, "server_default") is None):
                found.append(f"add_column NOT NULL without a server default at line {node.lineno}")
    return found


@pytest.mark.parametrize("path", sorted(VERSIONS.glob("0*.py")), ids=lambda p: p.stem)
def test_each_new_migration_only_expands_the_schema(path: Path) -> None:
    found = breaking_operations(path.read_text())
    assert not found, (f"{path.name} breaks the previous release during a rolling upgrade: {found}; expand now and "
                       "contract in a later release, or set CONTRACTS_PREVIOUS_RELEASE with the reason")


@pytest.mark.parametrize(("body", "breaks"), [
    ("op.add_column('t', sa.Column('c', sa.String(), nullable=True))", False),
    ("op.add_column('t', sa.Column('c', sa.String(), nullable=False, server_default='x'))", False),
    ("op.create_index('ix', 't', ['c'])", False),
    ("op.create_table('t', sa.Column('id', sa.Integer(), primary_key=True))", False),
    ("op.add_column('t', sa.Column('c', sa.String(), nullable=False))", True),
    ("op.drop_column('t', 'c')", True),
    ("op.drop_table('t')", True),
    ("op.rename_table('t', 'u')", True),
    ("op.alter_column('t', 'c', new_column_name='d')", True),
    ("op.alter_column('t', 'c', nullable=False)", True),
    ("with op.batch_alter_table('t') as b:\n        b.drop_column('c')", True),
])
def test_the_check_tells_expanding_from_contracting(body: str, breaks: bool) -> None:
    source = f"def upgrade() -> None:\n    {body}\n\n\ndef downgrade() -> None:\n    op.drop_table('t')\n"
    assert bool(breaking_operations(source)) is breaks
    marked = "CONTRACTS_PREVIOUS_RELEASE = 'no release reads t.c since 1.4'\n" + source
    assert breaking_operations(marked) == []
