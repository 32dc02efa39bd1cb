"""The API reference: ``/openapi.yaml`` is the repository's contract byte for byte, shipped as package data, and
``/docs/api`` renders every operation from it with nothing fetched from elsewhere; production serves both."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import requests
import yaml

from gateway.app import create_app
from gateway.bootstrap import bootstrap
from tests.support.gateway import GatewayUnderTest, make_test_settings
from tests.support.live import LiveServer
from tests.support.openapi import SPEC_PATH

REPO = SPEC_PATH.parent
PACKAGED = REPO / "gateway" / "api" / "openapi.yaml"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
PRODUCTION: dict[str, Any] = {"env": "production", "public_base_url": "https://gateway.example.edu",
                              "vendor_launch_url": "https://app.example.edu/lti", "allow_sqlite_in_production": True}


def _operation_ids() -> list[str]:
    spec = yaml.safe_load(SPEC_PATH.read_text())
    return [op["operationId"] for item in spec["paths"].values() for m, op in item.items() if m in HTTP_METHODS]


def test_the_served_yaml_is_the_repository_file(gateway: GatewayUnderTest) -> None:
    answer = requests.get(gateway.url + "/openapi.yaml", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/yaml")
    assert answer.content == SPEC_PATH.read_bytes()


def test_the_page_renders_every_operation_and_loads_nothing_from_elsewhere(gateway: GatewayUnderTest) -> None:
    answer = requests.get(gateway.url + "/docs/api", timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in answer.headers["Content-Security-Policy"]
    page = answer.text
    ids = _operation_ids()
    assert len(re.findall(r'<section class="op" id="op-', page)) == len(ids)
    assert all(f'id="op-{operation_id}"' in page for operation_id in ids)
    assert 'id="schema-Launch"' in page and 'href="#schema-Launch"' in page
    # Nothing for the browser to fetch: no script, stylesheet, image, frame or font, from anywhere.
    assert re.search(r"<(script|link|img|iframe)\b|@import|url\(", page) is None


def test_production_serves_the_reference_but_no_landing_page(sqlite_url: str, keys_dir: Path) -> None:
    services = bootstrap(make_test_settings(sqlite_url, keys_dir, **PRODUCTION))
    services.keyring.generate()
    with LiveServer(create_app(services=services)) as server:
        assert requests.get(server.url + "/openapi.yaml", timeout=10).content == SPEC_PATH.read_bytes()
        assert requests.get(server.url + "/docs/api", timeout=10).status_code == 200
        assert requests.get(server.url + "/", timeout=10).status_code == 404
    services.close()


def test_the_package_ships_the_contract() -> None:
    """An installed wheel and the image carry it: package data that links to the one file the tests check."""
    assert PACKAGED.is_symlink() and PACKAGED.resolve() == SPEC_PATH.resolve()
    data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["gateway"]
    assert "**/*.yaml" in data
    # The image's build stage copies the file the link points at, beside gateway/, before `pip install .`.
    copies = [line.split()[1:-1] for line in (REPO / "Dockerfile").read_text().splitlines()
              if line.startswith("COPY ") and "--from" not in line]
    assert any("openapi.yaml" in sources for sources in copies)


def test_a_wheel_built_from_what_the_image_copies_carries_the_contract(tmp_path: Path) -> None:
    """What the Docker build stage copies (pyproject.toml, README.md, openapi.yaml, gateway/) builds a wheel whose
    package data holds openapi.yaml itself, not a link to a file the installed package would not have."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md", "openapi.yaml"):
        shutil.copy2(REPO / name, project / name)
    shutil.copytree(REPO / "gateway", project / "gateway", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path / "out"),
                            str(project)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (tmp_path / "out").glob("gateway-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("gateway/api/openapi.yaml") == SPEC_PATH.read_bytes()
