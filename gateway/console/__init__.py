"""The operator console: server-rendered pages for the people who run the gateway (issue 16).

Off unless ``GATEWAY_CONSOLE_ENABLED``; served under ``GATEWAY_CONSOLE_PATH`` (default ``/console``). Every page
stands on the same services as the admin API and CLI (``lti.management``, ``identity`` administration, the
writeback outbox, the key ring, Clever's sync, API keys): the console adds no second implementation of any
operation, only sign-in, roles and pages.

Module map: ``accounts`` (argon2 passwords, TOTP, server-side sessions; Flask-free), ``overview`` (the numbers;
Flask-free), ``session`` (the console's own cookie and CSRF), ``views`` (the pages), ``cli`` (``gateway admins``).

Public surface: what other packages may import is listed in ``__all__`` (``feature.py`` is for the composition
root only).
"""

from __future__ import annotations

from gateway.console.service import ConsoleServices

__all__ = ["ConsoleServices"]
