"""Stable error codes of the delivery status API."""

from __future__ import annotations

from gateway.errors import GatewayError


class DeliveryNotFound(GatewayError):
    code = "DELIVERY_NOT_FOUND"
    status = 404
    title = "No such delivery for this API key"
    default_hint = "Deliveries are visible to the key that made them (and to keys with the `admin` scope)."


class DeliveryNotReplayable(GatewayError):
    code = "DELIVERY_NOT_REPLAYABLE"
    status = 409
    title = "Only failed or dead deliveries can be replayed"
    default_hint = "A queued or delivering row is still being worked on; a delivered one has arrived."
