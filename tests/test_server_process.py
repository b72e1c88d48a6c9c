"""Stopping the server the documented way stops all of it.

`otree prodserver` (the README's quick start, the Procfile's `prodserver1of2`) starts a
second process, `otree timeoutsubprocess`, for page time-outs. A service manager stops
the server with SIGTERM to the server's process alone; oTree itself left the worker
running (`collab_experiment/otree_glue.py` makes the server stop it).
"""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess

import pytest

from conftest import Server, wait_until

pytestmark = pytest.mark.slow


def children(pid: int) -> dict[int, str]:
    """The direct child processes of `pid` (Linux /proc): pid -> command line."""
    found = {}
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found[int(entry.name)] = cmdline
    return found


def alive(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not pathlib.Path("/proc/self/stat").exists(), reason="reads processes from Linux's /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stopping_prodserver_stops_its_timeout_worker(project, sig):
    server = Server(project).start()
    try:
        worker = wait_until(lambda: [pid for pid, cmd in children(server.proc.pid).items()
                                     if "timeoutsubprocess" in cmd],
                            what="the timeout worker starting")
        assert len(worker) == 1
        os.kill(server.proc.pid, sig)  # the server's process alone, as systemd or a platform does
        try:
            server.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the server did not stop on {sig.name}:\n{server.log()}")
        wait_until(lambda: not alive(worker[0]), timeout=30, what="the timeout worker stopping")
    finally:
        if server.proc.poll() is None:
            os.killpg(server.proc.pid, signal.SIGKILL)
        try:
            os.killpg(server.proc.pid, signal.SIGKILL)  # whatever of the group is left, before failing
        except ProcessLookupError:
            pass
