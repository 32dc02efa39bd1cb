"""The sandbox as a dev plugin of the gateway: what ``make run`` and the tests add to the app.

The gateway's app factory loads every entry point of the groups ``gateway.dev_plugins`` (:func:`mount`) and
``gateway.dev_settings`` (:func:`settings`) outside production; ``pyproject.toml`` names them. The production
image does not ship this package, and a production app never looks the groups up, so nothing under ``/sandbox``
exists there.
"""

from __future__ import annotations

from flask import Flask

from gateway.settings import Settings
from sandbox import home, vendor
from sandbox.clever import dev as clever_dev
from sandbox.lms import dev


def settings(values: Settings) -> Settings:
    """Dev mode: an unconfigured Clever points at the simulated Clever this plugin mounts."""
    return clever_dev.settings(values)


def mount(app: Flask) -> None:
    """Add the landing page ``/``, the dev home, the dev vendor page, the Clever sandbox page and (in dev mode) the
    simulated LMS and Clever under ``/sandbox`` of ``app``."""
    app.register_blueprint(home.bp)
    app.register_blueprint(dev.bp)
    app.register_blueprint(vendor.bp)
    app.register_blueprint(clever_dev.bp)
    dev.mount_platform(app)
    clever_dev.mount_clever(app)
