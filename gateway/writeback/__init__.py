"""Writeback: the durable outbox, its workers, and the seam that delivery backends plug into.

An accepted grade or assignment change is an outbox row written in the caller's transaction
(:mod:`gateway.writeback.outbox`); workers (:mod:`gateway.runtime`) claim rows under a lease
(:mod:`gateway.writeback.source`), deliver them through a :class:`~gateway.writeback.backends.DeliveryBackend`
(LTI AGS, Clever LMS Connect), and record the outcome. Retries follow RFC 9110 §10.2.3 ``Retry-After`` and
Clever's ``X-RateLimit-Reset`` with exponential backoff and full jitter (:mod:`gateway.writeback.retry`); which
answers are retried is the one outbound rule of :mod:`gateway.retry` (408, 429, a throttled 403, 5xx), anything
else fails at once (:mod:`gateway.writeback.classify`); a row out of attempts is ``dead`` until an operator
replays it (``/api/v1/deliveries``).

Public surface: what other packages may import is listed in ``__all__`` (``feature.py`` is for the composition
root only).
"""

from __future__ import annotations

from gateway.writeback.service import WritebackServices

__all__ = ["WritebackServices"]
