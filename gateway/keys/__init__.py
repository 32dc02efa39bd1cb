"""Tool signing keys: the key ring, its CLI, and the public JWKS at ``/.well-known/jwks.json``.

The gateway signs client assertions (RFC 7523) and Deep Linking responses with
RS256. Private keys are PEM files under ``GATEWAY_KEYS_DIR`` (``<kid>.pem``; dev
keys are ``<kid>.dev.pem``) or one PEM from ``GATEWAY_SIGNING_KEY_PEM``; their
status (``next``, ``active``, ``retired``) lives in the ``tool_keys`` table.
"""
