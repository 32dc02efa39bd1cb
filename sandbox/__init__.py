"""Simulated peers that follow the specs: an LTI 1.3 platform (LMS) and Clever.

Tests, benchmarks and the dev server share them. They are real Flask apps served
over loopback; the gateway talks to them exactly as it talks to the real systems.
The gateway mounts them in dev and test through :mod:`sandbox.plugin`; production never serves them,
and the production image does not ship this package.
"""
