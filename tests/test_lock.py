"""requirements.lock, which the Docker image installs with --require-hashes, covers pyproject.toml.

Another change may add a runtime dependency to pyproject.toml; the image would then build (pip installs the gateway
with --no-deps) and fail at import. This test names what the lock misses and says how to regenerate it.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
FIX = "run `make lock` and commit requirements.lock"


def locked() -> dict[str, list[Version]]:
    """Each pinned name's versions (a universal lock may pin one per Python version), every pin hashed."""
    pins: dict[str, list[Version]] = defaultdict(list)
    entries = LOCK.read_text().replace("\\\n", " ").splitlines()
    for entry in entries:
        text = entry.split("#", 1)[0].strip()
        if not text:
            continue
        spec, _, hashes = text.partition("--hash=")
        requirement = Requirement(spec.strip())
        assert hashes, f"{requirement.name} has no --hash in requirements.lock; {FIX}"
        (pinned,) = requirement.specifier
        assert pinned.operator == "==", f"{requirement} in requirements.lock is not pinned with ==; {FIX}"
        pins[canonicalize_name(requirement.name)].append(Version(pinned.version))
    return pins


def wanted() -> list[tuple[str, Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [("[project] dependencies", Requirement(r)) for r in project["project"]["dependencies"]] + [
        ("[build-system] requires", Requirement(r)) for r in project["build-system"]["requires"]
    ]


def extras_of(requirement: Requirement) -> list[Requirement]:
    """What ``name[extra]`` adds, read from the installed distribution's metadata (scripts/setup.sh installs it)."""
    if not requirement.extras:
        return []
    try:
        declared = metadata.requires(requirement.name) or []
    except metadata.PackageNotFoundError as e:
        raise AssertionError(f"{requirement.name} is not installed here: run scripts/setup.sh, then {FIX}") from e
    added = []
    for line in declared:
        dependency = Requirement(line)
        if dependency.marker is not None and any(
            dependency.marker.evaluate({"extra": extra}) and not dependency.marker.evaluate({"extra": ""})
            for extra in requirement.extras
        ):
            added.append(dependency)
    return added


def test_the_lock_pins_every_runtime_dependency_with_hashes() -> None:
    pins = locked()
    missing = []
    for where, requirement in wanted():
        for needed, source in [(requirement, where)] + [
            (extra, f"{requirement} (extra)") for extra in extras_of(requirement)
        ]:
            versions = pins.get(canonicalize_name(needed.name), [])
            if not versions:
                missing.append(f"{needed} from {source}: not in the lock")
            elif not any(needed.specifier.contains(v, prereleases=True) for v in versions):
                shown = ", ".join(str(v) for v in versions)
                missing.append(f"{needed} from {source}: the lock pins {shown}")
    assert not missing, "requirements.lock does not cover pyproject.toml; " + FIX + ":\n  " + "\n  ".join(missing)


def test_the_dockerfile_installs_from_the_lock_with_hashes() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY requirements.lock" in dockerfile
    assert "--require-hashes" in dockerfile and "-r requirements.lock" in dockerfile
    assert "--no-deps" in dockerfile  # the gateway itself adds nothing the lock did not pin
    for line in dockerfile.splitlines():
        if line.startswith("FROM "):
            assert "@sha256:" in line, f"the base image is not pinned by digest: {line}"
