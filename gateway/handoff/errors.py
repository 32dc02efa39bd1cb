"""Stable error codes of the hand-off."""

from __future__ import annotations

from gateway.errors import GatewayError


class HandoffCodeInvalid(GatewayError):
    code = "HANDOFF_CODE_INVALID"
    status = 400
    title = "The hand-off code is malformed"
    default_hint = "Send the `code` query parameter exactly as the gateway put it on your launch URL."


class HandoffCodeUnknown(GatewayError):
    code = "HANDOFF_CODE_UNKNOWN"
    status = 404
    title = "The hand-off code is not known"
    default_hint = "The code was never issued or its launch has been purged; ask the user to launch again."


class HandoffCodeExpired(GatewayError):
    code = "HANDOFF_CODE_EXPIRED"
    status = 410
    title = "The hand-off code has expired"
    default_hint = "Redeem codes as soon as the browser arrives; ask the user to launch again."


class HandoffCodeUsed(GatewayError):
    code = "HANDOFF_CODE_ALREADY_REDEEMED"
    status = 409
    title = "The hand-off code was already redeemed"
    default_hint = "Codes are single use. Read the launch again with GET /api/v1/launches/{id}."


class HandoffCodeWrongKey(GatewayError):
    code = "HANDOFF_CODE_WRONG_KEY"
    status = 403
    title = "The hand-off code belongs to another API key"
    default_hint = "Redeem the code with the API key of the app the launch was meant for."


class LaunchNotFound(GatewayError):
    code = "LAUNCH_NOT_FOUND"
    status = 404
    title = "No such launch for this API key"
    default_hint = "Launches are readable by the key that redeemed them, until they expire."


class HandoffNotConfigured(GatewayError):
    code = "HANDOFF_NOT_CONFIGURED"
    status = 503
    title = "The gateway cannot hand launches to the app"
    default_hint = "An administrator must fix GATEWAY_HANDOFF_API_KEY_ID (see `gateway api-keys list`)."
