"""A PostgreSQL server of the tests' own: a temporary data directory, a free port, loopback only.

Nothing of the machine's own PostgreSQL is touched (no cluster, no password change, no
restart of a server other programs use). It needs the server's binaries only: Debian's
`postgresql` package puts them in /usr/lib/postgresql/<version>/bin; elsewhere `initdb`
and `pg_ctl` on the PATH are used.

PostgreSQL refuses to run as root. Run as root (a CI container), the server runs as the
`postgres` system user (which Debian's package creates) through `runuser`, in a
temporary directory that user owns.

    with ThrowawayPostgres() as pg:
        psycopg2.connect(pg.url)
        pg.restart()
"""

from __future__ import annotations

import glob
import os
import pathlib
import pwd
import shutil
import socket
import subprocess
import tempfile

USER = "postgres"
PASSWORD = "postgres"  # a password all the same: the tests connect as production does (TCP, scram)
SYSTEM_USER = "postgres"  # the account the server runs as when the tests run as root


def find_bindir() -> pathlib.Path | None:
    """The directory with `initdb` and `pg_ctl`: Debian's newest version, else the PATH's."""
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                    key=lambda p: [int(x) for x in p.split("/")[4].split(".") if x.isdigit()])
    if debian:
        return pathlib.Path(debian[-1]).parent
    found = shutil.which("initdb")
    return pathlib.Path(found).parent if found and shutil.which("pg_ctl") else None


def unavailable_reason() -> str | None:
    """Why a throw-away server cannot start here, or None if it can."""
    if find_bindir() is None:
        return ("PostgreSQL's server binaries (initdb, pg_ctl) are not installed "
                "(Debian: apt-get install postgresql)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            return f"running as root, and there is no {SYSTEM_USER!r} user to run PostgreSQL as"
        if shutil.which("runuser") is None:
            return "running as root, and `runuser` is missing to run PostgreSQL as another user"
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayPostgres:
    """One PostgreSQL server in a temporary directory; `stop()` deletes everything.

    bindir: where `initdb` and `pg_ctl` are (default: `find_bindir()`).
    port: the TCP port on 127.0.0.1 (default: a free one).
    durable: keep PostgreSQL's default fsync and commit settings (for benchmarks); the
        default turns them off, which tests do not need and which costs time.
    """

    def __init__(self, bindir: pathlib.Path | None = None, port: int | None = None, durable: bool = False):
        self.durable = durable
        self.bindir = pathlib.Path(bindir) if bindir else find_bindir()
        if self.bindir is None:
            raise RuntimeError(unavailable_reason())
        self.port = port or free_port()
        self.folder: pathlib.Path | None = None
        self.running = False

    @property
    def url(self) -> str:
        """The URL of the `postgres` database, as the superuser."""
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/postgres"

    @property
    def data(self) -> pathlib.Path:
        """The server's data directory."""
        return self.folder / "data"

    @property
    def log_path(self) -> pathlib.Path:
        """The server's log file."""
        return self.folder / "server.log"

    def _as_server_user(self, command: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", SYSTEM_USER, "--", *command]
        return command

    def _run(self, *command: str, timeout: float = 120) -> None:
        # Never pytest's own streams: the server outlives pg_ctl, and a CI runner reading
        # pytest's output would otherwise wait for it.
        done = subprocess.run(self._as_server_user([str(self.bindir / command[0]), *command[1:]]),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout, cwd=self.folder)
        if done.returncode != 0:
            log = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
            raise RuntimeError(f"{command[0]} failed ({done.returncode}):\n{done.stdout}{done.stderr}\n{log}")

    def start(self) -> "ThrowawayPostgres":
        """initdb into a new temporary directory and start the server; returns self."""
        self.folder = pathlib.Path(tempfile.mkdtemp(prefix="test-postgres-"))
        if os.geteuid() == 0:
            account = pwd.getpwnam(SYSTEM_USER)
            os.chown(self.folder, account.pw_uid, account.pw_gid)
        password_file = self.folder / "password"
        password_file.write_text(PASSWORD + "\n")
        if os.geteuid() == 0:
            os.chown(password_file, account.pw_uid, account.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", USER, f"--pwfile={password_file}",
                  "--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8",
                  "--locale=C", "--no-sync")
        password_file.unlink()
        self._start_server()
        return self

    def _start_server(self) -> None:
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} "
                   f"-c unix_socket_directories={self.folder}")
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log_path), "-o", options, "-w", "-t", "60", "start")
        self.running = True

    def restart(self) -> None:
        """Stop the server (fast: open connections are cut) and start it again on the same port."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        self.running = False
        self._start_server()

    def stop(self) -> None:
        """Stop the server and delete its directory."""
        if self.folder is None:
            return
        try:
            if self.running:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            self.running = False
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __enter__(self) -> "ThrowawayPostgres":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
