"""A throwaway PostgreSQL server for tests (Debian's `postgresql` package, started with pg_ctl)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Optional


def pg_bin() -> Optional[Path]:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    found = candidates[0] if candidates else shutil.which("pg_ctl")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """initdb in `root` (outside pytest's private tmp dir: the server runs as `postgres`), then
    start/stop at will: tests stop it to see what the gateway does while the database is down."""

    def __init__(self, root: Path):
        self.bindir = pg_bin()
        self.data = root / "pgdata"
        self.data.mkdir(parents=True, mode=0o700)
        # PostgreSQL refuses to run as root; CI runs as root, so drop to the `postgres` user.
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
            shutil.chown(self.data, "postgres")
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self.port = _free_port()
        subprocess.run(
            [*self.prefix, str(self.bindir / "initdb"), "-D", str(self.data), "--auth=trust", "-U", "postgres"],
            check=True,
            capture_output=True,
        )

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200"
        log = str(self.data / "server.log")
        subprocess.run(
            [*self.prefix, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", log, "-w", "-o", options, "start"],
            check=True,
            capture_output=True,
        )

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            [*self.prefix, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "stop"], capture_output=True
        )


def run_server(root: Path) -> Iterator[str]:
    """Yield a SQLAlchemy URL of a fresh server; stop it afterwards."""
    server = PostgresServer(root)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()
