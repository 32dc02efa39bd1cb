"""The Docker image's own commands, run in a fresh virtualenv (no container engine here): reproducible install,
release step, serve.

Read from the files themselves so they cannot drift apart: the Dockerfile's build-stage ``RUN`` lines (the venv,
``pip install --require-hashes -r requirements.lock``, then the gateway with ``--no-deps``), its final ``ENV`` and
``CMD``, and the README "Docker" block (the env file every production setting is in, the release step and the
serve command). Only pip's ``--no-cache-dir`` is dropped, so the shared pip cache makes a rerun quick.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.support.databases import DatabaseFactory
from tests.support.live import reserve_port
from tests.support.waiting import ready, wait_until

ROOT = Path(__file__).resolve().parents[3]
IMAGE = "district-gateway"
VENV_IN_IMAGE = "/opt/gateway"
KEYS_IN_IMAGE = "/srv/gateway/keys"

pytestmark = [pytest.mark.deploy, pytest.mark.xdist_group(__name__)]


@dataclass(frozen=True)
class Dockerfile:
    build_copies: list[str]  # what the build stage copies from the repository
    build_runs: list[str]  # its RUN lines
    final_env: dict[str, str]
    cmd: list[str]


def read_dockerfile() -> Dockerfile:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    stages: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("FROM "):
            stages.append([])
        elif stages and line.strip() and not line.startswith("#"):
            stages[-1].append(line.strip())
    build, final = stages
    copies = [src for line in build if line.startswith("COPY ") for src in line.split()[1:-1]]
    runs = [line.removeprefix("RUN ") for line in build if line.startswith("RUN ")]
    env: dict[str, str] = {}
    for line in final:
        if line.startswith("ENV "):
            env.update(part.split("=", 1) for part in shlex.split(line.removeprefix("ENV ")))
    (cmd_line,) = [line for line in final if line.startswith("CMD ")]
    cmd = re.findall(r'"([^"]*)"', cmd_line)
    return Dockerfile(copies, runs, env, cmd)


@dataclass(frozen=True)
class ReadmeDocker:
    env_file_script: str  # the `cat > gateway.env <<ENV ... ENV` lines
    release: list[list[str]]  # `docker run --rm ... district-gateway <command>`
    serve: list[str]  # the `docker run -d ...` line's command (empty: the image's CMD)


def read_readme() -> ReadmeDocker:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Docker\n"):]
    block = section[section.index("```sh\n") + 6:]
    block = block[:block.index("```")]
    lines = block.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("cat > gateway.env"))
    end = lines.index("ENV", start)
    runs = [shlex.split(line) for line in lines if line.startswith("docker run ")]

    def command(words: list[str]) -> list[str]:
        return words[words.index(IMAGE) + 1:]

    release = [command(w) for w in runs if "--rm" in w]
    (serve,) = [command(w) for w in runs if "-d" in w]
    return ReadmeDocker("\n".join(lines[start:end + 1]), release, serve)


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The build stage, replayed: its COPY sources in a bare folder, its RUN lines with the venv path swapped."""
    work = tmp_path_factory.mktemp("image")
    src, venv = work / "src", work / "venv"
    dockerfile = read_dockerfile()
    src.mkdir()
    for name in dockerfile.build_copies:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, src / name)
    assert any("--require-hashes" in run and "-r requirements.lock" in run for run in dockerfile.build_runs)
    for run in dockerfile.build_runs:
        command = run.replace(VENV_IN_IMAGE, str(venv)).replace("--no-cache-dir ", "")
        if command.startswith("python "):
            command = f"{shlex.quote(sys.executable)} {command.removeprefix('python ')}"
        done = subprocess.run(["bash", "-c", command], cwd=src, capture_output=True, text=True, timeout=600,
                              check=False)
        assert done.returncode == 0, f"{run}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert not (venv / "lib" / "python3.11" / "site-packages" / "sandbox").exists()  # the image has no sandbox
    return venv


@pytest.fixture
def env_file(tmp_path: Path) -> dict[str, str]:
    """The README's gateway.env, made by its own lines."""
    done = subprocess.run(["bash", "-c", read_readme().env_file_script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    return dict(line.split("=", 1) for line in (tmp_path / "gateway.env").read_text().splitlines() if line)


def container_env(image_venv: Path, env_file: dict[str, str], database_url: str, keys: Path, port: int,
                  engine: str) -> dict[str, str]:
    """What a container sees: the image's ENV, then `--env-file`; the database is this test's, the keys volume a
    folder, and the port a free loopback one (what `-p` maps)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    for name, value in read_dockerfile().final_env.items():
        env[name] = value.replace(VENV_IN_IMAGE, str(image_venv)).replace("$PATH", os.environ.get("PATH", ""))
    env.update(env_file)
    env.update(GATEWAY_DATABASE_URL=database_url, GATEWAY_HOST="127.0.0.1", GATEWAY_PORT=str(port),
               GATEWAY_KEYS_DIR=str(keys))
    if engine == "sqlite":
        env["GATEWAY_ALLOW_SQLITE_IN_PRODUCTION"] = "true"  # the image is for PostgreSQL; SQLite runs here too
    return env


def test_the_readme_env_file_has_every_setting_production_refuses_without() -> None:
    names = set(re.findall(r"^(GATEWAY_[A-Z_]+)=", read_readme().env_file_script, re.MULTILINE))
    assert names == {"GATEWAY_PUBLIC_BASE_URL", "GATEWAY_DATABASE_URL", "GATEWAY_SECRET_KEY",
                     "GATEWAY_ENCRYPTION_KEYS", "GATEWAY_VENDOR_LAUNCH_URL"}
    assert read_dockerfile().final_env["GATEWAY_ENV"] == "production"


def test_release_step_then_the_image_cmd_serves(
    image_venv: Path, env_file: dict[str, str], db_factory: DatabaseFactory, engine_name: str, tmp_path: Path
) -> None:
    readme, dockerfile = read_readme(), read_dockerfile()
    keys, workdir = tmp_path / "keys-volume", tmp_path / "srv"
    keys.mkdir()
    workdir.mkdir()
    port = reserve_port()
    env = container_env(image_venv, env_file, db_factory.empty_url(engine_name), keys, port, engine_name)
    binary = str(image_venv / "bin")

    def run(command: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run([os.path.join(binary, command[0]), *command[1:]], cwd=workdir, env=env,
                              capture_output=True, text=True, timeout=120, check=False)

    # Before the release step the image refuses to serve and says why (no signing key yet).
    refused = run(dockerfile.cmd)
    assert refused.returncode == 3 and "GATEWAY_KEYS_DIR" in refused.stderr, refused.stderr

    assert [c[:2] for c in readme.release] == [["gateway", "db"], ["gateway", "keys"]]
    for command in readme.release:
        done = run(command)
        assert done.returncode == 0, f"{command}: {done.stderr[-2000:]}"

    serve = readme.serve or dockerfile.cmd
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen([os.path.join(binary, serve[0]), *serve[1:]], cwd=workdir, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until(lambda: ready(base), timeout=60, what="/readyz", interval=0.2)
        except AssertionError as e:
            raise AssertionError(log_path.read_text()[-3000:]) from e
        assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
        assert requests.get(f"{base}/sandbox/lms/", timeout=5).status_code == 404  # no sandbox in the image
    finally:
        proc.terminate()
        proc.wait(timeout=60)
