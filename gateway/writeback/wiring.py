"""The delivery backends of assignment and grade writeback, built once by the composition root.

``ags`` delivers to LMSs over LTI AGS; ``clever`` to Clever LMS Connect. Both are registered in
``Services.delivery_backends``, so every worker (in-process or ``gateway worker``) claims their rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.clever.client import build_client
from gateway.lti.ags import AgsClient
from gateway.lti.ags_token import AgsTokens
from gateway.writeback.ags import AgsBackend
from gateway.writeback.backend_metrics import BackendMetrics
from gateway.writeback.backends import DeliveryBackend
from gateway.writeback.clever_lms import CleverLmsBackend
from gateway.writeback.config import WritebackConfig

if TYPE_CHECKING:
    from gateway.bootstrap import Services


def build_delivery_backends(services: Services) -> dict[str, DeliveryBackend]:
    settings = services.settings
    config = WritebackConfig.from_settings(settings)
    metrics = BackendMetrics(services.metrics.registry)
    tokens = AgsTokens(services.http, services.keyring, timeout=config.ags_timeout_seconds,
                       on_fetch=lambda outcome: metrics.token_requests.labels(outcome=outcome).inc())
    ags = AgsClient(services.http, tokens, timeout=config.ags_timeout_seconds,
                    on_token_refresh=metrics.token_refreshes.inc)
    # The outbox owns retries and waits: the Clever client sends once, with LMS Connect's timeout.
    clever = build_client(settings, services.http, timeout=services.clever.config.lms_timeout_seconds,
                          max_retries=0, max_rate_limit_wait_seconds=0.0)
    wait = config.assignment_wait_seconds
    return {
        "ags": AgsBackend(services.db, ags, metrics, wait_seconds=wait),
        "clever": CleverLmsBackend(services.db, clever, services.clever.tokens.token_for, metrics,
                                   wait_seconds=wait),
    }
