"""A throwaway PostgreSQL cluster for the tests: `initdb` + `pg_ctl` from Debian's postgresql package (the
Makefile installs it), in a temporary folder, on a free loopback port, removed afterwards.

PostgreSQL's server refuses to run as root, and CI runs as root: then every server command runs as the
unprivileged `postgres` user the package creates (subprocess's `user=`), in a folder that user owns.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SUPERUSER = "shoegen"
UNPRIVILEGED_USER = "postgres"
# Durability is pointless for a cluster deleted after the tests, and fsyncs are most of its cost.
SERVER_OPTIONS = ("-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                  "-c max_connections=200")


class PostgresUnavailable(Exception):
    """PostgreSQL cannot run here; the message says why (shown as the tests' skip reason)."""


def find_bin_dir() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin with initdb, else the folder of an initdb on PATH."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(Path(path).parts[-3]))
    initdb = candidates[-1] if candidates else shutil.which("initdb")
    if initdb is None:
        raise PostgresUnavailable("PostgreSQL is not installed (no initdb in /usr/lib/postgresql/*/bin or on PATH): "
                                  "`make postgresql` installs Debian's package")
    return Path(initdb).resolve().parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresCluster:
    """One cluster in `folder` on `port`, run as `user` (the unprivileged account when the tests run as root;
    None: the current user)."""

    def __init__(self, bin_dir: Path, folder: Path, port: int, user: str | None) -> None:
        self.bin_dir, self.folder, self.port, self.user = bin_dir, folder, port, user
        self.start_seconds = 0.0
        """How long initdb and the server start took."""
        self._databases = 0

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        account = {} if self.user is None else {"user": self.user, "group": pwd.getpwnam(self.user).pw_gid,
                                                 "extra_groups": []}
        result = subprocess.run([str(self.bin_dir / command[0]), *command[1:]], capture_output=True, text=True,
                                timeout=120, cwd=self.folder, **account)
        if result.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.is_file() else ""
            raise PostgresUnavailable(f"{command[0]} failed ({result.returncode}): {result.stderr.strip()} {tail}")

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data_dir), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8",
                  "--locale=C.UTF-8", "--no-sync")
        # The socket goes in the cluster's folder too: /var/run/postgresql may not exist or be writable.
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.folder / "server.log"), "-w", "-t", "60",
                  "-o", f"{SERVER_OPTIONS} -p {self.port} -k {self.folder}", "start")

    def create_database(self) -> str:
        """A new, empty database; its URL."""
        import psycopg

        self._databases += 1
        name = f"test_{os.getpid()}_{self._databases}"
        with psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres",
                             autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def stop(self) -> None:
        try:
            if (self.data_dir / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def start_cluster() -> PostgresCluster:
    """Start a cluster, or raise PostgresUnavailable saying why not."""
    bin_dir = find_bin_dir()
    user = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(UNPRIVILEGED_USER)
        except KeyError:
            raise PostgresUnavailable(f"running as root and there is no {UNPRIVILEGED_USER!r} user to run PostgreSQL "
                                      "as (Debian's postgresql package creates it)") from None
        user = UNPRIVILEGED_USER
    # Not under pytest's basetemp: that is private to root (0700), and the server's user must reach its folder.
    folder = Path(tempfile.mkdtemp(prefix="shoegen-pg-"))
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    cluster = PostgresCluster(bin_dir=bin_dir, folder=folder, port=_free_port(), user=user)
    started = time.perf_counter()
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    cluster.start_seconds = time.perf_counter() - started
    return cluster
