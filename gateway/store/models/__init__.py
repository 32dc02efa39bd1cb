"""All models, imported here so that ``Base.metadata`` knows every table.

Each feature keeps its tables in its own module; add the import below when you add one.
"""

from __future__ import annotations

# ruff: noqa: I001  (imports are grouped by feature under their markers, not alphabetically)
from gateway.store.models import core

# -- lti models --
from gateway.store.models import lti  # noqa: F401  (registers the LTI tables on Base.metadata)
# -- clever models --
from gateway.store.models import clever  # noqa: F401  (registers the Clever tables on Base.metadata)
# -- writeback models --
from gateway.store.models import writeback  # noqa: F401  (registers the outbox tables on Base.metadata)
from gateway.store.models import writeback_assignments  # noqa: F401  (assignments, grade state, course members)
# -- identity models --
from gateway.store.models import identity  # noqa: F401  (registers the identity tables on Base.metadata)
from gateway.store.models.base import Base, new_id, utcnow

__all__ = ["Base", "core", "new_id", "utcnow"]
