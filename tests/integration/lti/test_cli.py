"""``gateway registrations add | list`` against a real database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.cli import main

ADD = ["registrations", "add", "--issuer", "https://canvas.instructure.com", "--client-id", "10000000000001",
       "--auth-login-url", "https://sso.canvaslms.com/api/lti/authorize_redirect",
       "--auth-token-url", "https://sso.canvaslms.com/login/oauth2/token",
       "--jwks-url", "https://sso.canvaslms.com/api/lti/security/jwks", "--lms", "canvas", "--deployment", "1:abc"]


def test_add_then_list(sqlite_url: str, keys_dir: Path, monkeypatch: pytest.MonkeyPatch,
                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GATEWAY_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(keys_dir))
    monkeypatch.setenv("GATEWAY_PUBLIC_BASE_URL", "https://gateway.example.edu")
    assert main(ADD) == 0
    out = capsys.readouterr().out
    assert "https://gateway.example.edu/lti/login" in out and "https://gateway.example.edu/lti/launch" in out
    assert "https://gateway.example.edu/.well-known/jwks.json" in out
    assert main(ADD) == 1  # (issuer, client id) is unique
    capsys.readouterr()
    assert main(["registrations", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["client_id"], r["lms"], r["deployments"]) for r in rows] == [("10000000000001", "canvas",
                                                                             {"1:abc": "active"})]
