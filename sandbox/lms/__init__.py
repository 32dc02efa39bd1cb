"""A simulated LTI 1.3 platform (LMS) that tests, benchmarks and the dev server launch the gateway from.

It has its own RS256 key and JWKS, a course with a teacher and students, an OIDC auth endpoint that
checks the tool's authentication request, signed launches of every message type (resource link,
deep linking, submission review, data privacy), switches that produce each invalid launch
(:mod:`sandbox.lms.cases`), a client-credentials token endpoint, AGS line items, scores and
results, NRPS, a deep-link return endpoint, the postMessage storage frame Canvas offers, and Dynamic
Registration (an OpenID configuration and a registration endpoint).

Specs: LTI 1.3 core, Security Framework 1.0, DL 2.0, AGS 2.0, NRPS 2.0, lti-pm-s v0p1, lti-dr v1p0.
"""

from __future__ import annotations

from flask import Flask

from sandbox.lms.platform import CLIENT_ID, DEPLOYMENT_ID, LaunchIntent, SandboxPlatform


def create_lms_app(platform: SandboxPlatform) -> Flask:
    """The platform as a WSGI app (serve it with a LiveServer, or mount it under the dev server)."""
    from sandbox.lms.ags import bp as services_bp
    from sandbox.lms.registration import bp as registration_bp
    from sandbox.lms.views import bp as launch_bp

    app = Flask("sandbox.lms")
    app.extensions["sandbox_lms"] = platform
    app.register_blueprint(launch_bp)
    app.register_blueprint(services_bp)
    app.register_blueprint(registration_bp)
    return app


__all__ = ["CLIENT_ID", "DEPLOYMENT_ID", "LaunchIntent", "SandboxPlatform", "create_lms_app"]
