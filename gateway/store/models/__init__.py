"""All models, imported here so that ``Base.metadata`` knows every table.

Each feature keeps its tables in its own module and names it in its ``Feature.models``; a test checks that
every table here belongs to a feature.
"""

from __future__ import annotations

from gateway.store.models import clever, console, core, identity, lti, writeback, writeback_assignments
from gateway.store.models.base import Base, new_id, utcnow

__all__ = [
    "Base", "clever", "console", "core", "identity", "lti", "new_id", "utcnow", "writeback", "writeback_assignments",
]
