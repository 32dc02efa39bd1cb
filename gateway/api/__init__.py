"""The vendor REST API under ``/api/v1`` and the toolkit every vendor and admin route uses.

Described whole in ``openapi.yaml``. Feature packages add their own blueprints under ``/api/v1`` and build each
route from the toolkit:

* :mod:`.auth`: ``Authorization: Bearer`` keys and scopes (:func:`~gateway.api.auth.require_scope`);
* :mod:`.idempotency`: ``Idempotency-Key`` and the request's unit of work;
* :mod:`.params`: ``limit``, flags, choices, a JSON object body, the calling key as audit actor;
* :mod:`.cursor`: the one opaque, versioned paging cursor, ``INVALID_CURSOR`` and :class:`~gateway.api.cursor.Page`
  (no Flask: stores and services use it);
* :mod:`.responses`: a page as JSON with its ``Link`` header, and ``no-store`` / ``no-referrer``;
* :mod:`.problems`: problem+json or an HTML page for every refusal; the app-wide error handlers.
"""
