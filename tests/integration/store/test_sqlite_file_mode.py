"""The SQLite file holds personal data: created owner-only (issue 17: it was 0644 under the usual umask)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from gateway.store import Database


def test_a_new_sqlite_file_is_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        db = Database(f"sqlite:///{tmp_path / 'var' / 'gateway.db'}")
        db.upgrade()
        db.dispose()
    finally:
        os.umask(old)
    for made in (tmp_path / "var").iterdir():
        assert stat.S_IMODE(made.stat().st_mode) & 0o077 == 0, made.name


def test_an_existing_world_readable_file_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    Database(f"sqlite:///{path}").dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
