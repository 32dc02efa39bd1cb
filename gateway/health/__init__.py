"""Health and metrics routes: ``/healthz`` (the process is up), ``/readyz`` (ready to serve), ``/metrics``.

Public surface: what other packages may import is listed in ``__all__`` (``feature.py`` is for the composition
root only).
"""

from __future__ import annotations

from gateway.health.draining import drain_flag, is_draining
from gateway.health.service import HealthServices

__all__ = ["HealthServices", "drain_flag", "is_draining"]
