"""One worker per SQLite file: an exclusive ``flock`` on ``<database file>.worker.lock``.

SQLite has one writer at a time and no ``SKIP LOCKED``; the claim statement is safe
anyway, but several workers would only queue up on the write lock. So the embedded
default runs exactly one worker: ``gateway serve``'s in-process worker or ``gateway
worker``, whichever takes this lock first; the other waits and takes over when the
holder exits (the kernel drops the lock with the process, even on SIGKILL).
PostgreSQL needs no guard: workers claim disjoint rows with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sqlalchemy.engine import make_url


def sqlite_lock_path(database_url: str) -> Path | None:
    """The lock file for a file-backed SQLite URL; None for PostgreSQL (or in-memory SQLite)."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite") or not url.database or url.database == ":memory:":
        return None
    return Path(url.database + ".worker.lock")


class WorkerGuard:
    """A non-blocking exclusive lock; ``acquire`` is False while another process (or guard) holds it."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._path is None or self._fd is not None

    def acquire(self) -> bool:
        if self.held:
            return True
        assert self._path is not None
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
