"""The sandbox as a dev plugin of the gateway: what ``make run`` and the tests add to the app.

The gateway's app factory loads every entry point of the group ``gateway.dev_plugins`` outside production;
``pyproject.toml`` names :func:`mount` there. The production image does not ship this package, and a
production app never looks the group up, so nothing under ``/sandbox`` exists there.
"""

from __future__ import annotations

from flask import Flask

from sandbox import home, vendor
from sandbox.lms import dev


def mount(app: Flask) -> None:
    """Add the landing page ``/``, the dev home, the dev vendor page and (in dev mode) the simulated LMS under
    ``/sandbox`` of ``app``."""
    app.register_blueprint(home.bp)
    app.register_blueprint(dev.bp)
    app.register_blueprint(vendor.bp)
    dev.mount_platform(app)
