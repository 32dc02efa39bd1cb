"""All models, imported here so that ``Base.metadata`` knows every table.

Each feature keeps its tables in its own module; add the import below when you add one.
"""

from __future__ import annotations

from gateway.store.models import core

# -- lti models --
# -- clever models --
# -- writeback models --
from gateway.store.models.base import Base, new_id, utcnow

__all__ = ["Base", "core", "new_id", "utcnow"]
