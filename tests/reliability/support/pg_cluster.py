"""A throwaway PostgreSQL cluster a test owns: made with initdb in a temporary directory, on a
free loopback port, so it can be stopped like a crash and started again without touching the
machine's shared server.

initdb and the postmaster refuse to run as root; as root (CI) they run as the ``postgres``
system user through ``runuser``, in a directory that user owns.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from reliability.support.processes import free_port


def find_pg_bin() -> Path | None:
    """The newest installed server's bin directory (Debian: /usr/lib/postgresql/<v>/bin),
    or the one holding an initdb on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda path: int(Path(path).parts[-3]) if
                   Path(path).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _run_as() -> list[str]:
    if os.geteuid() != 0:
        return []
    pwd.getpwnam("postgres")  # KeyError: no user to run the server as
    return ["runuser", "-u", "postgres", "--"]


class ThrowawayCluster:
    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="orderpilot-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.prefix = _run_as()
        if self.prefix:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _tool(self, name: str, *args: str, timeout: float = 60) -> None:
        done = subprocess.run([*self.prefix, str(self.bin_dir / name), *args],
                              capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{name} {' '.join(args)} exited {done.returncode}:\n"
                               f"{done.stdout}\n{done.stderr}\n{self.log_tail()}")

    def init(self) -> None:
        # --no-sync and fsync=off: only a crash of the whole machine could lose what these
        # settings leave unsynced; the test stops the server, never the machine.
        self._tool("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                   "-E", "UTF8", "--no-sync", "--locale=C")

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c max_connections=200")
        self._tool("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log),
                   "-w", "-t", "60", "start")

    def crash(self) -> None:
        """Stop at once, as a crash would: no checkpoint, clients cut off; crash recovery
        replays the WAL on the next start."""
        self._tool("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def create_database(self, name: str) -> str:
        engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT",
                                  poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        finally:
            engine.dispose()
        return self.url(name)

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self._tool("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop",
                           timeout=30)
            except (RuntimeError, subprocess.TimeoutExpired):
                time.sleep(0.5)
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""
