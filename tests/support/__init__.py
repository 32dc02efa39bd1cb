"""Test support: databases on both engines, live servers on loopback, OpenAPI response validation."""
