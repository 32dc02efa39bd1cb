"""The console's settings, checked at start-up: whether it is on, its path prefix, its session limits, and how many
failed sign-ins lock an account for how long."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from gateway.settings import Settings, SettingsError, between, positive

# Prefixes other features own, or that change a page's headers (/lti/ pages may be framed by LMSs).
TAKEN = ("/api", "/lti", "/clever", "/identity", "/sandbox", "/.well-known", "/healthz", "/readyz", "/metrics",
         "/handoff")
_PATH = re.compile(r"^(/[A-Za-z0-9._~-]+)+$")
# A day at most: a longer lock only helps someone who wants the account's owner kept out (an admin unlocks sooner).
MAX_LOCKOUT_SECONDS = 86400
MAX_LOCKOUT_ATTEMPTS = 1000


@dataclass(frozen=True)
class ConsoleConfig:
    enabled: bool
    path: str
    idle_timeout: dt.timedelta
    max_age: dt.timedelta
    lockout_attempts: int  # consecutive failed sign-ins that lock an account
    lockout: dt.timedelta  # for this long

    @classmethod
    def from_settings(cls, settings: Settings) -> ConsoleConfig:
        path = settings.console_path
        if not _PATH.match(path):
            raise SettingsError("GATEWAY_CONSOLE_PATH", "must be a path such as /console (no trailing slash)")
        if any(path == t or path.startswith(t + "/") for t in TAKEN):
            raise SettingsError("GATEWAY_CONSOLE_PATH", f"must not be under {', '.join(TAKEN)}")
        idle = positive(settings, "console_idle_timeout_seconds")
        longest = positive(settings, "console_session_max_seconds")
        attempts = between(settings, "console_lockout_attempts", 1, MAX_LOCKOUT_ATTEMPTS)
        lockout = between(settings, "console_lockout_seconds", 1, MAX_LOCKOUT_SECONDS)
        return cls(settings.console_enabled, path, dt.timedelta(seconds=idle), dt.timedelta(seconds=longest),
                   attempts, dt.timedelta(seconds=lockout))
