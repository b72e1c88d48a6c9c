"""Shared fixtures: a real `otree prodserver` on 127.0.0.1 in a throw-away copy of the project.

Components a developer may lack (PostgreSQL's binaries, Chromium) skip with a reason
locally; under CI=true they must be there, so a missing one fails instead of skipping.
PostgreSQL is the tests' own throw-away server (`throwaway_postgres.py`), never the
machine's; TEST_POSTGRES_URL points the tests at another server instead.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from analysis.demo import PROJECT_PARTS  # what a copy of the project needs

REPO = pathlib.Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, reason: str) -> None:
    """Skip locally when a real component is missing; fail under CI, never skip."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, timeout: float = 30, what: str = "the condition", interval: float = 0.1):
    """Poll `condition()` until it returns something true (returned) or `timeout` s pass (fail).

    condition: a function of no arguments.
    timeout: seconds before failing.
    what: the awaited event, named in the failure message.
    interval: seconds between polls.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(interval)


def copy_project(dest: pathlib.Path, with_bots: bool = False) -> pathlib.Path:
    dest.mkdir(parents=True, exist_ok=True)
    skip = ("__pycache__",) if with_bots else ("__pycache__", "tests.py")
    for part in PROJECT_PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns(*skip))
        else:
            shutil.copy2(src, dest / part)
    return dest


class Server:
    """An oTree production server in its own folder (its own SQLite file by default)."""

    def __init__(self, folder: pathlib.Path, env: dict | None = None, command: list[str] | None = None):
        self.folder = folder
        # the command that starts the server, before its address (default `otree prodserver`)
        self.command = command or ["otree", "prodserver"]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # OTREE_ADMIN_PASSWORD set to empty: the admin stays open, as tests use it. Unset,
        # `otree prodserver` would generate a password (settings.py).
        self.env = {"OTREE_ADMIN_PASSWORD": "", **os.environ, **(env or {})}
        bindir = str(pathlib.Path(sys.executable).parent)
        self.env["PATH"] = bindir + os.pathsep + self.env.get("PATH", "")
        self.env.pop("OTREE_IN_MEMORY", None)
        self.log_path = folder / "server.log"
        self.proc = None

    def start(self, timeout: float = 60) -> "Server":
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [*self.command, f"127.0.0.1:{self.port}"],
            cwd=self.folder, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                requests.get(self.url + "/favicon.ico", timeout=1)
                return self
            except requests.ConnectionError:
                time.sleep(0.2)
        raise RuntimeError(f"server did not start within {timeout}s:\n{self.log()}")

    def stop(self, sig=signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def kill(self) -> None:
        """SIGKILL, as a crash or a power cut would: no shutdown handlers run."""
        self.stop(signal.SIGKILL)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def create_session(self, config: str = "classroom", n: int = 10, **settings) -> dict:
        body = dict(session_config_name=config, num_participants=n)
        if settings:
            body["modified_session_config_fields"] = settings
        headers = {}
        if self.env.get("OTREE_REST_KEY"):
            headers["otree-rest-key"] = self.env["OTREE_REST_KEY"]
        r = requests.post(self.url + "/api/sessions", json=body, headers=headers, timeout=60)
        r.raise_for_status()
        return r.json()


@pytest.fixture
def project(tmp_path) -> pathlib.Path:
    return copy_project(tmp_path / "project")


@pytest.fixture
def server(project):
    srv = Server(project).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def postgres_server():
    """The tests' own throw-away PostgreSQL (`throwaway_postgres.py`), started on first use
    and stopped, its data deleted, when the test session ends. None when TEST_POSTGRES_URL
    names another server to use instead."""
    if os.environ.get("TEST_POSTGRES_URL"):
        yield None
        return
    import throwaway_postgres

    why = throwaway_postgres.unavailable_reason()
    require(why is None, f"no throw-away PostgreSQL: {why}")
    server = throwaway_postgres.ThrowawayPostgres().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_admin_url(postgres_server) -> str:
    """A PostgreSQL server the tests may create databases on: the throw-away one, or
    TEST_POSTGRES_URL if set."""
    import psycopg2

    url = postgres_server.url if postgres_server else os.environ["TEST_POSTGRES_URL"]
    try:
        psycopg2.connect(url, connect_timeout=3).close()
        reachable, why = True, ""
    except psycopg2.OperationalError as exc:
        reachable, why = False, str(exc).strip().splitlines()[0]
    require(reachable, f"no PostgreSQL at {'the throw-away server' if postgres_server else 'TEST_POSTGRES_URL'} ({why})")
    return url


@contextlib.contextmanager
def fresh_database(admin_url: str):
    """A fresh, empty database on the server at `admin_url`, yielded as its URL and dropped
    afterwards (its connections ended first)."""
    import uuid

    import psycopg2

    name = f"otree_test_{uuid.uuid4().hex[:10]}"
    con = psycopg2.connect(admin_url)
    try:
        con.autocommit = True
        con.cursor().execute(f'CREATE DATABASE "{name}"')
    finally:
        con.close()
    base = admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        con = psycopg2.connect(admin_url)  # a new one: a test may have restarted the server
        con.autocommit = True
        con.cursor().execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        con.cursor().execute(f'DROP DATABASE IF EXISTS "{name}"')
        con.close()


@pytest.fixture
def postgres_url(postgres_admin_url):
    """A fresh, empty database for one test, dropped afterwards."""
    with fresh_database(postgres_admin_url) as url:
        yield url


PRODUCTION_ENV = dict(
    OTREE_PRODUCTION="1",
    OTREE_AUTH_LEVEL="STUDY",
    OTREE_ADMIN_PASSWORD="test-admin-password",
    OTREE_REST_KEY="test-rest-key-0123456789",
    OTREE_SECRET_KEY="test-secret-key-0123456789abcdef",
)


@pytest.fixture
def production_server(project, postgres_url):
    """oTree as deployed: PostgreSQL, OTREE_PRODUCTION=1, AUTH_LEVEL=STUDY, secrets set."""
    srv = Server(project, env=dict(PRODUCTION_ENV, DATABASE_URL=postgres_url)).start()
    srv.database_url = postgres_url
    yield srv
    srv.stop()


def admin_login(server) -> requests.Session:
    """A browser-like admin session, logged in with the production password."""
    import re

    http = requests.Session()
    page = http.get(server.url + "/login", timeout=30).text
    token = re.search(r'name="csrftoken" value="([^"]+)"', page).group(1)
    r = http.post(server.url + "/login", data=dict(
        username="admin", password=server.env["OTREE_ADMIN_PASSWORD"], csrftoken=token), timeout=30)
    r.raise_for_status()
    http.csrftoken = token
    return http
