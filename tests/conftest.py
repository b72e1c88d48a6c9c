"""Shared fixtures: a real `otree prodserver` on 127.0.0.1 in a throw-away copy of the project.

Components a developer may lack (PostgreSQL, Chromium) skip with a reason locally;
under CI=true they must be there, so a missing one fails instead of skipping.
"""

from __future__ import annotations

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

REPO = pathlib.Path(__file__).resolve().parent.parent
PROJECT_PARTS = ["settings.py", "consent", "collab_experiment", "_static", "_templates", "requirements.txt"]
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

    def __init__(self, folder: pathlib.Path, env: dict | None = None):
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **(env or {})}
        bindir = str(pathlib.Path(sys.executable).parent)
        self.env["PATH"] = bindir + os.pathsep + self.env.get("PATH", "")
        self.env.pop("OTREE_IN_MEMORY", None)
        self.log_path = folder / "server.log"
        self.proc = None

    def start(self, timeout: float = 60) -> "Server":
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            ["otree", "prodserver", f"127.0.0.1:{self.port}"],
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
