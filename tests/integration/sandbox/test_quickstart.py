"""The README's quick start cannot rot: ``scripts/quickstart.sh`` runs its commands against a real ``gateway serve``
in dev mode (what ``make run`` starts), and every command the README shows is one the script runs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.support.dev_server import dev_server
from tests.support.processes import REPO

SCRIPT = REPO / "scripts" / "quickstart.sh"
# Lines the reader types differently from the script: the server itself, the base URL (the script takes it from
# its environment) and the pasted code (the script clicks the launch from the shell instead).
TYPED_BY_THE_READER = ("make run", "GW=", "CODE=")


def _commands(text: str) -> list[str]:
    """Shell commands with their continuation lines joined, comments and blank lines dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    lines = (re.sub(r"\s+#.*$", "", line).strip() for line in joined.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def readme_quick_start() -> list[str]:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    return [c for block in blocks for c in _commands(block)]


def test_every_readme_quick_start_command_is_in_the_script() -> None:
    shown = readme_quick_start()
    assert len(shown) >= 9, shown  # the section and its code blocks are where this test looks
    script = _commands(SCRIPT.read_text())
    missing = [c for c in shown if not c.startswith(TYPED_BY_THE_READER) and c not in script]
    assert missing == [], "README quick-start commands that scripts/quickstart.sh does not run"


def test_the_quick_start_sits_at_the_top_of_the_readme() -> None:
    headings = [line for line in (REPO / "README.md").read_text().splitlines() if line.startswith("## ")]
    assert headings[0].startswith("## Quick start")


def test_the_quick_start_script_reaches_the_gradebook(tmp_path: Path) -> None:
    with dev_server(tmp_path) as server:
        ran = subprocess.run([str(SCRIPT)], cwd=REPO, env={**server.env, "GW": server.url}, capture_output=True,
                             text=True, timeout=240)
        banner = server.output()
    assert ran.returncode == 0, ran.stderr[-3000:] + ran.stdout[-3000:]
    assert "the gradebook shows the grade" in ran.stderr
    assert '"kind":"lti"' in ran.stdout and '"create_assignments":{"available":true' in ran.stdout
    # What `make run` prints at start-up: where the sandbox is.
    assert f"open {server.url}/ for the sandbox" in banner
