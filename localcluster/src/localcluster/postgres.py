"""A throwaway PostgreSQL server on loopback, for tests, benchmarks and the dev system.

`PostgresServer` runs the Debian package's binaries (the highest installed major
version) as a child process: a fresh `initdb`, then `postgres` on 127.0.0.1 with a
free port, its unix socket inside the data directory and durability switched off for
speed. PostgreSQL refuses to run as root, so under root both run as the `postgres`
system user, which owns the data directory. Authentication is `trust`: the URLs carry
the superuser name and no password.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

import psycopg
from psycopg import sql

from localcluster.processes import ManagedProcess, free_port

POSTGRES_ROOT = Path("/usr/lib/postgresql")
SUPERUSER = "postgres"
SYSTEM_USER = "postgres"  # the Debian package's account, used when we are root
_FAST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
_DATABASE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def find_bin_dir(root: Path = POSTGRES_ROOT) -> Path:
    """`/usr/lib/postgresql/<major>/bin` for the highest installed major version."""
    majors = [p for p in root.glob("*/bin") if p.parent.name.isdigit() and (p / "postgres").exists()]
    if not majors:
        raise FileNotFoundError(f"no PostgreSQL server under {root}; apt-get install postgresql")
    return max(majors, key=lambda p: int(p.parent.name))


class PostgresServer:
    """One PostgreSQL cluster in its own directory; `start()` returns once it accepts
    connections, `stop()` shuts it down and removes a directory it created itself.

    Pass `base_dir` to keep the cluster (an initialised data directory is reused); under
    root it must be reachable by the `postgres` user, so not below pytest's tmp_path.
    """

    def __init__(
        self,
        *,
        base_dir: Path | None = None,
        settings: Mapping[str, str] | None = None,
        tied_to_parent: bool = True,
    ) -> None:
        self.bin_dir = find_bin_dir()
        self.os_user = SYSTEM_USER if os.geteuid() == 0 else None
        self._owns_dir = base_dir is None
        self.base_dir = base_dir or Path(tempfile.mkdtemp(prefix="wt-postgres-"))
        if self._owns_dir and self.os_user is not None:
            shutil.chown(self.base_dir, self.os_user, self.os_user)
        self.data_dir = self.base_dir / "data"
        self.port = free_port()
        options = {**_FAST_SETTINGS, **(settings or {})}
        argv = [
            str(self.bin_dir / "postgres"),
            "-D", str(self.data_dir),
            "-p", str(self.port),
            "-c", "listen_addresses=127.0.0.1",
            "-c", f"unix_socket_directories={self.data_dir}",
        ]  # fmt: skip
        for name, value in options.items():
            argv += ["-c", f"{name}={value}"]
        self.process = ManagedProcess(
            name="postgres",
            argv=argv,
            log_path=self.base_dir / "postgres.log",
            cwd=self.base_dir,
            tied_to_parent=tied_to_parent,
            user=self.os_user,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def start(self, timeout: float = 60.0) -> PostgresServer:
        try:
            if not (self.data_dir / "PG_VERSION").exists():
                self._initdb()
            self.process.start_until(
                self._accepts_connections, timeout=timeout, what=f"PostgreSQL on 127.0.0.1:{self.port}"
            )
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """`pg_ctl stop -m fast`, then kill whatever is left of the process group."""
        if self.process.running():
            self._run(self.bin_dir / "pg_ctl", "stop", "-D", self.data_dir, "-m", "fast",
                      "-w", "-t", str(int(timeout)), check=False)  # fmt: skip
        self.process.stop(grace=5.0)
        if self._owns_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of `database` on this server."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        """An autocommit psycopg connection as the superuser (for admin statements)."""
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname=database,
            autocommit=True, connect_timeout=5,
        )  # fmt: skip

    def create_database(self, name: str) -> str:
        """Create database `name` (lower-case identifier) and return its URL."""
        if not _DATABASE_NAME.fullmatch(name):
            raise ValueError(f"not a plain database name: {name!r}")
        with self.connect() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop database `name` if it exists, disconnecting its sessions."""
        with self.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def _accepts_connections(self) -> bool:
        with self.connect() as conn:
            return conn.execute("SELECT 1").fetchone() == (1,)

    def _initdb(self) -> None:
        self.data_dir.mkdir(parents=True, mode=0o700, exist_ok=True)
        if self.os_user is not None:
            shutil.chown(self.data_dir, self.os_user, self.os_user)
        self._run(self.bin_dir / "initdb", "-D", self.data_dir, "-U", SUPERUSER,
                  "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync")  # fmt: skip

    def _run(self, *argv: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL tool as the server's user; raise with its output on failure."""
        result = subprocess.run(
            [str(a) for a in argv], cwd=self.base_dir, user=self.os_user, group=self.os_user,
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{Path(argv[0]).name} failed with code {result.returncode}:\n" + result.stdout + result.stderr
            )
        return result
