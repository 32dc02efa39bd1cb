"""What a feature package gives the composition root.

Each feature package (``lti``, ``clever``, ``identity``, ``writeback``, ...) has the same two modules:
``service.py`` holds its services container (what its views, CLI commands and other features use), and
``feature.py`` one class that satisfies :class:`Feature`: a ``build`` classmethod that makes the services from
the :class:`~gateway.core.Core` and the public services of the features it needs (the composition root,
:mod:`gateway.bootstrap`, calls it in dependency order), and what the app, the CLI and the workers loop over:
blueprints, CLI commands, periodic jobs, and the store modules that hold its tables. Views find the services
with ``gateway.web.services(LtiServices)``; they never import ``feature.py``, which imports them.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, ClassVar, Protocol

from flask import Blueprint

from gateway.runtime import PeriodicJob
from gateway.settings import Settings

# A start-up check of some settings: raises ``SettingsError`` naming the variable, or returns.
SettingCheck = Callable[[], object]

# ``gateway <command>`` handlers of a feature get the parsed arguments and the feature's built services.
CommandHandler = Callable[[argparse.Namespace, Any], int]


class Feature(Protocol):
    name: ClassVar[str]
    models: ClassVar[tuple[ModuleType, ...]]

    @property
    def services(self) -> object:
        """The services container views and commands use (looked up by its type)."""
        ...

    @classmethod
    def blueprints(cls) -> Sequence[Blueprint]:
        """The Flask blueprints to register (empty when the feature serves no route)."""
        ...

    @classmethod
    def register_commands(cls, commands: Any) -> None:
        """Add sub-commands to ``gateway`` (``commands`` is argparse's sub-parsers action).

        Each sub-command sets ``handler`` (a :data:`CommandHandler`) and ``feature`` (this class) as defaults
        (:func:`add_command`); the handler gets the built feature's services.
        """
        ...

    def jobs(self) -> Sequence[PeriodicJob]:
        """Periodic jobs the workers run (empty when none)."""
        ...

    @classmethod
    def setting_checks(cls, settings: Settings) -> Sequence[SettingCheck]:
        """Checks of every setting this feature reads, run at start-up before anything is built or served.

        Each check raises ``SettingsError`` naming its ``GATEWAY_*`` variable; start-up runs them all and refuses
        every problem at once. No default: each feature says what it checks (an empty tuple when it reads no
        setting of its own), so a new feature cannot leave its settings to fail later in a worker.
        """
        ...


class FeatureDefaults:
    """What a feature that serves no route, adds no command or runs no job need not write itself."""

    @classmethod
    def blueprints(cls) -> Sequence[Blueprint]:
        return []

    @classmethod
    def register_commands(cls, commands: Any) -> None:
        return None

    def jobs(self) -> Sequence[PeriodicJob]:
        return []


def nothing_listed(what: str) -> str:
    """The one wording every list command prints when it found nothing (``--json`` prints ``[]``)."""
    return f"no {what}"


def print_rows(rows: Sequence[dict[str, Any]], as_json: bool, *, what: str) -> None:
    """A command's list of ``what``: JSON when asked, else one ``key=value`` line a row, or :func:`nothing_listed`."""
    if as_json:
        print(json.dumps(list(rows), indent=2))
        return
    if not rows:
        print(nothing_listed(what))
    for row in rows:
        print("  ".join(f"{k}={v}" for k, v in row.items()))


def add_command(commands: Any, name: str, feature: type, handler: CommandHandler,
                **kwargs: Any) -> argparse.ArgumentParser:
    """A sub-command whose handler gets the built ``feature``'s services."""
    parser: argparse.ArgumentParser = commands.add_parser(name, **kwargs)
    parser.set_defaults(handler=handler, feature=feature)
    return parser
