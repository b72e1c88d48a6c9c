"""The server's side of `settings.py`: its address, the admin password it makes, the
login banner it prints, and what a production server lacks.

`settings.py` imports these (and reads as configuration). They live here, not in
`collab_experiment/`, because oTree imports `settings.py` while its own modules are still
half loaded: importing anything from `collab_experiment` then would run the app package's
`__init__.py`, which imports `otree.api`, and fail. Like `contract`, this module imports
no oTree, only the standard library; the instructor's screens (`collab_experiment/instructor.py`)
use the address helpers too.
"""

from __future__ import annotations

import ipaddress
import json
import os
import pathlib
import secrets
import socket
import sys
from os import environ

PROJECT = pathlib.Path(__file__).resolve().parent.parent

# The commands that run oTree's production server (oTree's aliases included).
PRODSERVER_COMMANDS = ("prodserver", "runprodserver", "prodserver1of2", "runprodserver1of2", "webandworkers")


def server_address(argv=sys.argv, env=environ) -> tuple[str, int] | None:
    """(host, port) this process serves on when it is `otree prodserver`; else None.

    Args:
        argv: the command line (`otree prodserver [host:]port`); oTree's defaults apply
            when the address is left out: every interface (0.0.0.0), port $PORT or 8000.
        env: the environment (for `PORT`).
    """
    if len(argv) < 2 or argv[1] not in PRODSERVER_COMMANDS:
        return None
    addrport = argv[2] if len(argv) > 2 and not argv[2].startswith("-") else ""
    host, _, port = addrport.rpartition(":")
    return host or "0.0.0.0", int(port or env.get("PORT") or 8000)


def is_loopback(host: str | None) -> bool:
    """True for an address only this computer can open (localhost, 127.x, ::1).

    Args:
        host: a host name or IP address, without the port.
    """
    host = (host or "").strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def lan_address() -> str | None:
    """This computer's address on its network (the interface that leads outwards), or None.

    Connecting a UDP socket only chooses the route: no packet is sent, and the address
    (TEST-NET-1, RFC 5737) need not exist. None without a network.
    """
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            address = probe.getsockname()[0]
    except OSError:
        return None
    return None if is_loopback(address) or address == "0.0.0.0" else address


ADMIN_USERNAME = "admin"
# The file that keeps a generated admin password across restarts (git-ignored, only the
# owner may read it; see `settings.py`).
ADMIN_PASSWORD_FILE = PROJECT / ".admin-password"


def generated_admin_password(path: pathlib.Path = ADMIN_PASSWORD_FILE) -> str:
    """The password kept in `path`, made (random, 16 characters) and stored if missing.

    Args:
        path: the git-ignored file that keeps it across restarts.
    """
    try:
        kept = path.read_text(encoding="utf-8").strip()
    except OSError:
        kept = ""
    if kept:
        return kept
    password = secrets.token_urlsafe(12)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.chmod(path, 0o600)  # also when an empty file was there already
        with os.fdopen(fd, "w", encoding="utf-8") as kept_file:
            kept_file.write(password + "\n")
    except OSError:
        pass  # a read-only folder: the password still holds for this run
    return password


def reachable_base_url(host: str, port: int, env=environ, lan_lookup=lan_address) -> str | None:
    """The base URL other devices (students' phones) open for a server on host:port, or
    None when only this computer can reach it.

    Args:
        host: the address the server listens on (0.0.0.0 = every interface).
        port: the port it listens on.
        env: the environment; `OTREE_PUBLIC_URL` (e.g. https://survey.example.org, the
            address behind a reverse proxy) wins over everything else.
        lan_lookup: returns this computer's network address or None (`lan_address`).
    """
    public = (env.get("OTREE_PUBLIC_URL") or "").strip().rstrip("/")
    if public:
        return public
    if is_loopback(host):
        return None
    if host in ("", "0.0.0.0", "::"):
        host = lan_lookup()
    return f"http://{host}:{port}" if host else None


def admin_login_banner(password: str, address: tuple[str, int], env=environ, lan_lookup=lan_address) -> str:
    """The lines the server prints first when it made the password: URL, username, password.

    Args:
        password: the generated password.
        address: (host, port) the server listens on.
        env: the environment (`OTREE_PUBLIC_URL`, if set, is the URL shown first).
        lan_lookup: returns this computer's network address or None (`lan_address`).
    """
    t = json.loads((PROJECT / "collab_experiment" / "instrument" / "en.json")
                   .read_text(encoding="utf-8"))["instructor"]
    host, port = address
    local = f"http://localhost:{port}/"
    public = reachable_base_url(host, port, env, lan_lookup)
    urls = f"{public}/   ({t['server_login_local']}: {local})" if public else local
    rule = "-" * 72
    return "\n".join([
        rule, t["server_login_title"], f"    {urls}", f"    {t['server_login_username']}: {ADMIN_USERNAME}",
        f"    {t['server_login_password']}: {password}", t["server_login_kept"].format(file=ADMIN_PASSWORD_FILE.name),
        rule,
    ])


# The secret key of a development server; a production server refuses it.
DEV_SECRET_KEY = "dev-only-not-secret"


def production_problems(env=environ) -> list[str]:
    """What a production server (OTREE_PRODUCTION=1) lacks; empty when it may start.

    Args:
        env: the environment (`OTREE_ADMIN_PASSWORD`, `OTREE_REST_KEY`, `OTREE_SECRET_KEY`,
            `DATABASE_URL`, `OTREE_AUTH_LEVEL`).
    """
    problems = [
        f"{name} is not set" for name in ("OTREE_ADMIN_PASSWORD", "OTREE_REST_KEY", "OTREE_SECRET_KEY", "DATABASE_URL")
        if not env.get(name)
    ]
    if env.get("OTREE_AUTH_LEVEL") != "STUDY":
        problems.append("OTREE_AUTH_LEVEL must be STUDY (admin and REST API closed without credentials)")
    key = env.get("OTREE_SECRET_KEY") or ""
    if key and (key == DEV_SECRET_KEY or len(key) < 16):
        problems.append("OTREE_SECRET_KEY must be a long random value, not the development default")
    url = env.get("DATABASE_URL") or ""
    if url and not url.startswith(("postgres://", "postgresql://")):
        problems.append("DATABASE_URL must point to PostgreSQL (postgresql://user:password@host/db)")
    return problems
