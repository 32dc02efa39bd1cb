"""The delivery backends of assignment and grade writeback, built once by the composition root.

``ags`` delivers to LMSs over LTI AGS; ``clever`` to Clever LMS Connect. Both are registered in
``Services.delivery_backends``, so every worker (in-process or ``gateway worker``) claims their rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.settings import SettingsError
from gateway.writeback.ags import AgsBackend
from gateway.writeback.ags_token import AgsTokens
from gateway.writeback.backend_metrics import BackendMetrics
from gateway.writeback.backends import DeliveryBackend
from gateway.writeback.clever_lms import CleverLmsBackend, writeback_client

if TYPE_CHECKING:
    from gateway.bootstrap import Services


def build_delivery_backends(services: Services) -> dict[str, DeliveryBackend]:
    settings = services.settings
    if settings.writeback_ags_timeout_seconds <= 0:
        raise SettingsError("GATEWAY_WRITEBACK_AGS_TIMEOUT_SECONDS", "must be positive")
    if settings.writeback_assignment_wait_seconds <= 0:
        raise SettingsError("GATEWAY_WRITEBACK_ASSIGNMENT_WAIT_SECONDS", "must be positive")
    metrics = BackendMetrics(services.metrics.registry)
    tokens = AgsTokens(services.http, services.keyring, timeout=settings.writeback_ags_timeout_seconds,
                       on_fetch=lambda outcome: metrics.token_requests.labels(outcome=outcome).inc())
    wait = settings.writeback_assignment_wait_seconds
    return {
        "ags": AgsBackend(services.db, services.http, tokens, metrics, timeout=settings.writeback_ags_timeout_seconds,
                          wait_seconds=wait),
        "clever": CleverLmsBackend(services.db, writeback_client(settings, services.http),
                                   services.clever.tokens.token_for, metrics, wait_seconds=wait),
    }
