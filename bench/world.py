"""Everything a run needs, started once and stopped at the end: the platform, the servers, the client processes."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench.loadgen import Clients, Target
from bench.platform import LaunchPlatform
from bench.servers import (
    PlatformProcess,
    Server,
    drop_cache,
    platform_process,
    postgres_database,
    start_gateway,
    start_tool,
    tool_key_files,
)
from tests.support.live import reserve_port

ENGINES = ("sqlite", "postgresql")
BASELINES = ("pylti1p3", "pylti1p3+key cache", "floor")


@dataclass
class World:
    workdir: Path
    platform: PlatformProcess
    gateways: list[Server]
    baselines: list[Server]
    clients: Clients
    database_urls: dict[str, str]
    # Learnt from the first launches: each student's gateway user id, and the course's context id.
    users: dict[str, dict[str, str]] = field(default_factory=dict)
    contexts: dict[str, str] = field(default_factory=dict)

    @property
    def servers(self) -> list[Server]:
        return self.gateways + self.baselines

    def launch_platform(self, server: Server) -> LaunchPlatform:
        return LaunchPlatform(self.platform.url, self.platform.key_file.read_text(), server.login_url,
                              server.launch_url)

    def target(self, server: Server) -> Target:
        return Target(server.name, server.login_url, server.launch_url, server.redeem_url, server.api_key,
                      expect_code=server.redeem_url is not None)

    def database_bytes(self, server: Server) -> int:
        """The gateway's storage: the SQLite file (with its WAL), or the PostgreSQL database's size."""
        url = self.database_urls[server.name]
        if url.startswith("sqlite"):
            path = Path(url.removeprefix("sqlite:///"))
            return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.suffix != ".lock")
        with psycopg.connect(url) as conn:
            size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        return int(size[0]) if size else 0


@contextlib.contextmanager
def world(*, engines: tuple[str, ...] = ENGINES, baselines: tuple[str, ...] = BASELINES, students: int = 1000,
          processes: int = 2, latency_ms: float = 20.0) -> Iterator[World]:
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gw-bench-")))
        ports = {engine: reserve_port() for engine in engines}
        jwks = [f"http://127.0.0.1:{port}/.well-known/jwks.json" for port in ports.values()]
        platform = stack.enter_context(platform_process(workdir, jwks, latency_ms=latency_ms, students=students))
        gateways: list[Server] = []
        urls: dict[str, str] = {}
        for engine in engines:
            if engine == "postgresql":
                url = stack.enter_context(postgres_database())
            else:
                (workdir / "sqlite").mkdir()
                url = f"sqlite:///{workdir}/sqlite/gateway.db"
            name = f"gateway {engine}"
            gateway = start_gateway(name, engine, url, platform.url, ports[engine], workdir / f"gateway-{engine}")
            stack.callback(gateway.stop)
            gateways.append(gateway)
            urls[name] = url
        tools: list[Server] = []
        if baselines:
            private, public = tool_key_files(gateways[0], workdir)
            keys = {"BENCH_TOOL_KEY_FILE": str(private), "BENCH_TOOL_PUBLIC_KEY_FILE": str(public)}
            for name in baselines:
                app = "floor_app" if name == "floor" else "pylti1p3_app"
                extra = {**keys, "BENCH_KEY_CACHE": "1" if "cache" in name else "0"}
                tool = start_tool(name, app, platform.url, reserve_port(), extra)
                stack.callback(drop_cache, tool)
                stack.callback(tool.stop)
                tools.append(tool)
        clients = Clients(processes)
        stack.callback(clients.close)
        yield World(workdir, platform, gateways, tools, clients, urls)
