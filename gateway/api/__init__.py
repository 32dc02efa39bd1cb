"""The vendor REST API under ``/api/v1``: API keys, authentication, and the routes every feature shares.

Described whole in ``openapi.yaml``. Feature packages add their own blueprints
under ``/api/v1`` and protect each route with :func:`gateway.api.auth.require_scope`.
"""
