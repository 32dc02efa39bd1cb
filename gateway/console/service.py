"""The console feature's services: its settings, the admin accounts, and the overview's reader."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gateway.console.accounts import AdminAccounts
from gateway.console.config import ConsoleConfig
from gateway.console.overview import Overview, overview
from gateway.store import Database


@dataclass(frozen=True)
class ConsoleServices:
    config: ConsoleConfig
    db: Database
    accounts: AdminAccounts
    refusals: Callable[[float], dict[str, int]]  # refusals by stable code over the last N seconds (this process)

    def overview(self) -> Overview:
        return overview(self.db, self.refusals)
