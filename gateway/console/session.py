"""The console's cookie and CSRF protection, installed on the app only when the console is enabled.

Flask's signed-cookie session carries the console's session token and Flask-WTF's CSRF secret. Under the console's
path it is its own cookie (``gateway_console``, ``Path=<prefix>``, ``Secure; HttpOnly; SameSite=Lax``); elsewhere
Flask's session keeps the app's settings (no other feature uses it). CSRF: Flask-WTF's ``CSRFProtect``, checked
by the console's own ``before_request`` on every POST (``WTF_CSRF_CHECK_DEFAULT`` off: the API and LTI posts are
not forms of ours).
"""

from __future__ import annotations

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

COOKIE = "gateway_console"
SESSION_TOKEN = "console_session"  # noqa: S105  (the session key's name, not a secret)


class ConsoleSessionInterface(SecureCookieSessionInterface):
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def _console(self) -> bool:
        return request.path == self.prefix or request.path.startswith(self.prefix + "/")

    def get_cookie_name(self, app: Flask) -> str:
        return COOKIE if self._console() else super().get_cookie_name(app)

    def get_cookie_path(self, app: Flask) -> str:
        return self.prefix if self._console() else super().get_cookie_path(app)

    def get_cookie_samesite(self, app: Flask) -> str | None:
        return "Lax" if self._console() else super().get_cookie_samesite(app)

    def get_cookie_secure(self, app: Flask) -> bool:
        return True if self._console() else super().get_cookie_secure(app)

    def get_cookie_httponly(self, app: Flask) -> bool:
        return True if self._console() else super().get_cookie_httponly(app)


def install(app: Flask, prefix: str) -> CSRFProtect:
    app.session_interface = ConsoleSessionInterface(prefix)
    app.config.update(
        WTF_CSRF_CHECK_DEFAULT=False,  # the console checks its own forms; other routes are not forms
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the console session (idle timeout, sign-out)
    )
    return CSRFProtect(app)
