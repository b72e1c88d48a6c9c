"""The one door into oTree's internals.

oTree's public API (`otree.api`) has no hook for extra admin pages, a friendly "session is
full" page, the server's error page, the participant-code generator, or stopping the
page-timeout worker together with the server. This module is the only place in the
project that touches oTree names outside `otree.api`:

- `install()` applies every patch, once (a second call does nothing). The app calls it
  when oTree imports it (`collab_experiment/__init__.py`), which is before oTree builds its
  route table and before `otree prodserver` starts its worker. It cannot run from
  `settings.py`: oTree imports `settings.py` while its own modules are still half loaded.
- `patches()` lists every attribute `install()` replaces; `PRIVATE_NAMES` lists every other
  non-public oTree name the project reads (through the small accessors below, never
  directly). `tests/test_otree_glue.py` checks, in well under a second and without a
  server, that each one exists in the installed oTree and that each patch is in place
  after `install()`.
- `check_version()` compares `otree.__version__` with `PINNED_OTREE` (the pin in
  `requirements.txt`). A different version is **refused** at start-up: these patches
  reach into oTree's internals, and a silently broken patch would show up in the middle
  of a class (students' codes from a predictable generator, exports racing answers, a
  traceback on a phone) rather than on the developer's screen. To try an upgrade, set
  `OTREE_GLUE_ALLOW_VERSION=1`: the server then starts with a loud warning, and
  `tests/test_otree_glue.py` says which patched names the new oTree lacks.

Upgrading oTree: change the pin in `requirements.txt` and `PINNED_OTREE` together, run
`tests/test_otree_glue.py`, then the server, browser and bot tests.
"""

from __future__ import annotations

import logging
import os
import random
import subprocess
import sys
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import otree
import otree.cli.prodserver1of2
import otree.common
import otree.database
import otree.errorpage
import otree.middleware
import otree.session
import otree.settings
import otree.views.admin
import otree.views.participant
import otree.views.rest
from otree.api import Page
from otree.models import Participant, Session
from otree.views.cbv import AdminSessionPage  # the base class of our admin views

PINNED_OTREE = "6.0.15"
ALLOW_ENV = "OTREE_GLUE_ALLOW_VERSION"

__all__ = [
    "AdminSessionPage", "ForcedPageHook", "OtreeVersionError", "PINNED_OTREE", "PRIVATE_NAMES",
    "anonymous_code", "apply", "last_request_timestamp", "participant_row_dicts", "row_dicts", "check_version", "current_page_name", "existed_before",
    "expire_cached_rows", "form_field_names", "install", "installed_value", "is_bot",
    "model_metadata", "original_value", "page_progress", "patches", "raw_vars",
    "redirect_to_current_page", "submitted_form_data",
]


class OtreeVersionError(RuntimeError):
    """The installed oTree is not the one the patches were written for."""


def version_message(installed: str, pinned: str = PINNED_OTREE) -> str:
    """The message shown when oTree's version differs from the pin.

    installed: the version found (`otree.__version__`).
    pinned: the version the patches were written and tested for.
    """
    return (
        f"oTree {installed} is installed, but this project is pinned to oTree {pinned} "
        f"(requirements.txt) and patches oTree internals that may have changed "
        f"(collab_experiment/otree_glue.py). Install the pinned version "
        f"(`pip install -r requirements.txt`), or, to try an upgrade, set {ALLOW_ENV}=1 and "
        f"run `python -m pytest tests/test_otree_glue.py` first."
    )


def check_version(installed: str | None = None, allow: bool | None = None) -> None:
    """Refuse (or, when allowed, warn loudly about) an oTree other than `PINNED_OTREE`.

    installed: the version to check; default the installed `otree.__version__`.
    allow: warn instead of refusing; default true when the environment variable
        `OTREE_GLUE_ALLOW_VERSION` is `1`.
    Raises `OtreeVersionError` with `version_message()` when refusing.
    """
    installed = otree.__version__ if installed is None else installed
    if installed == PINNED_OTREE:
        return
    if allow is None:
        allow = os.environ.get(ALLOW_ENV, "") == "1"
    message = version_message(installed)
    if not allow:
        raise OtreeVersionError(message)
    warnings.warn(message, RuntimeWarning, stacklevel=2)
    print(f"WARNING: {message}", file=sys.stderr, flush=True)


# --- Reading oTree's private fields: one accessor each -----------------------------------

def raw_vars(participant) -> dict:
    """`participant.vars` for reading only.

    participant: an oTree participant.
    oTree's `participant.vars` flags the whole pickled dict as changed on every access (an
    UPDATE of the row per request); its column `_vars` does not.
    """
    return participant._vars or {}


def current_page_name(participant) -> str | None:
    """The class name of the page the participant was last on.

    participant: an oTree participant.
    """
    return participant._current_page_name


def is_bot(participant) -> bool | None:
    """Whether oTree's bots created this participant.

    participant: an oTree participant.
    """
    return participant._is_bot


def page_progress(participant) -> tuple[int, int]:
    """(the index of the participant's current page, the number of pages), 1-based.

    participant: an oTree participant.
    """
    return participant._index_in_pages, participant._max_page_index


def last_request_timestamp(participant) -> float | None:
    """When the participant last asked for a page (seconds since the epoch), or None.

    participant: an oTree participant.
    """
    return participant._last_request_timestamp


def row_dicts(model, **filters) -> list[dict]:
    """The rows of an oTree model as plain dicts of its columns, in one query (no ORM
    objects, so nothing is marked changed or written back).

    model: an oTree model class (the app's `Player`, say).
    filters: column = value conditions (e.g. `session=session`).
    """
    return model.values_dicts(**filters)


def participant_row_dicts(session) -> list[dict]:
    """A session's participant rows as plain dicts with the private columns `_vars`
    (a dict, or None) and `_current_page_name` among them, in one query.

    session: an oTree session.
    """
    return row_dicts(Participant, session=session)


def anonymous_code(session) -> str:
    """The code in a session's session-wide link (`/join/<code>`).

    session: an oTree session.
    """
    return session._anonymous_code


def form_field_names(page) -> list[str]:
    """The fields a page's form shows (`form_fields` or `get_form_fields(player)`).

    page: an oTree page instance during a request.
    """
    return list(page._get_form_fields() or [])


def submitted_form_data(page):
    """The raw form data of the request being answered (None for a GET).

    page: an oTree page instance during a request.
    """
    return page._form_data


def redirect_to_current_page(page):
    """A response that shows the participant the page they should be on (a GET).

    page: an oTree page instance during a request.
    """
    return page._redirect_to_page_the_user_should_be_on()


def model_metadata():
    """SQLAlchemy metadata of every oTree table (oTree's and the apps', once imported)."""
    return otree.database.AnyModel.metadata


def expire_cached_rows() -> None:
    """Make oTree's database session reload every row on next access (a bot's thread
    otherwise sees the values cached before the server's request changed them)."""
    otree.database.db.expire_all()


class ForcedPageHook:
    """Mixin for a Page: `on_forced_submit()` replaces oTree's handling of a page the
    admin forced on ("advance slowest participants"), which would store the empty form's
    defaults as answers. Subclasses override `on_forced_submit`."""

    def on_forced_submit(self) -> None:
        """Called instead of storing anything when the page was submitted for the student."""

    def _process_auto_submitted_form(self, form, obj):  # oTree's name (PRIVATE_NAMES)
        self.on_forced_submit()


PRIVATE_NAMES: list[tuple[Any, str]] = [
    (otree.database, "AnyModel"),
    (otree.database, "db"),
    (Participant, "_vars"),
    (Participant, "_current_page_name"),
    (Participant, "_is_bot"),
    (Participant, "_last_request_timestamp"),
    (Participant, "values_dicts"),
    (Participant, "_index_in_pages"),
    (Participant, "_max_page_index"),
    (Session, "_anonymous_code"),
    (Page, "_get_form_fields"),
    (Page, "_form_data"),
    (Page, "_redirect_to_page_the_user_should_be_on"),
    (Page, "_process_auto_submitted_form"),
]


# --- Patches -----------------------------------------------------------------------------

@dataclass
class Patch:
    """One attribute of oTree that `install()` replaces.

    target: the module or class patched.
    name: the attribute's name.
    new: a function of no arguments returning the replacement (built at install time).
    must_exist: the attribute must exist in oTree before install (False for additions).
    why: one line for the reader.
    """

    target: Any
    name: str
    new: Callable[[], Any]
    must_exist: bool = True
    why: str = ""


_installed: dict[tuple[int, str], Any] = {}  # (id(target), name) -> the value installed
_originals: dict[tuple[int, str], Any] = {}  # (id(target), name) -> oTree's value before it
_MISSING = object()
_original_error_call = otree.errorpage.OTreeServerErrorMiddleware.__call__


async def _call_and_log(self, scope, receive, send):
    """oTree's error middleware, writing every request's exception to the server log
    (oTree's logging set-up drops them)."""
    try:
        await _original_error_call(self, scope, receive, send)
    except Exception:
        logging.getLogger("collab_experiment").exception("server error on %s", scope.get("path"))
        raise


def _stop_worker(worker: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM the timeout worker, SIGKILL it if it has not stopped within `timeout` s."""
    if worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def _prodserver_handle(self, *args, addrport=None, verbosity=1, **kwargs):
    """`otree prodserver`, whose page-timeout worker stops with the server.

    oTree starts `otree timeoutsubprocess` and forgets it, so SIGTERM (systemd, docker,
    a platform's dyno manager) stopped the server and left the worker running. Here the
    worker is kept, and stopped when the server returns (uvicorn turns SIGTERM and SIGINT
    into a normal return) or fails.
    """
    prod = otree.cli.prodserver1of2
    addr, port = prod.get_addr_port(addrport)
    worker = subprocess.Popen(["otree", "timeoutsubprocess", str(port)], env=os.environ.copy())
    try:
        prod.print_function("Running prodserver")
        prod.run_asgi_server(addr, port)
    finally:
        _stop_worker(worker)


_original_create_session = otree.session.create_session


def _refusing_create_session(session_config_name, *args, room_name=None, **kwargs):
    """oTree's `create_session`, refusing what `instructor.room_config_problem` refuses
    (the seeded `demo` configuration in a room) before anything is created.

    oTree attaches a session to its room only after the apps' `creating_session` ran, so no
    app hook can see the room. The admin's "create session" page then shows "Failed to
    create session: <the message>", and the REST API answers 400 with it.
    """
    from . import instructor

    problem = instructor.room_config_problem(session_config_name, room_name)
    if problem:
        raise otree.session.CreateSessionInvalidArgs(problem)
    return _original_create_session(session_config_name, *args, room_name=room_name, **kwargs)


def _patches() -> list[Patch]:
    from . import instructor  # late: instructor imports this module

    patches = [
        Patch(otree.common, "rng", lambda: random.SystemRandom(),
              why="participant and session codes from the OS's cryptographic source, not a Mersenne Twister"),
        Patch(otree.views.participant, "no_participants_left_http_response",
              lambda: instructor.full_session_response,
              why="a friendly 'this session is full' page in three languages"),
        # oTree runs data exports outside its request lock but on the same database
        # connection as page requests, so an export's commit or rollback could land in the
        # middle of a student's submission. An empty set makes every request, exports
        # included, take the lock: an export waits a moment, an answer is never lost.
        Patch(otree.middleware, "PATHS_WITHOUT_LOCK", lambda: set(),
              why="exports take the request lock too, so their commit never lands inside a submission"),
        Patch(otree.errorpage.OTreeServerErrorMiddleware, "__call__", lambda: _call_and_log,
              why="every request's exception in the server log"),
        Patch(otree.cli.prodserver1of2.Command, "handle", lambda: _prodserver_handle,
              why="SIGTERM to `otree prodserver` stops its timeout worker too"),
        # The admin's create-session page calls otree.session.create_session; the REST
        # API imported the name into its own module.
        Patch(otree.session, "create_session", lambda: _refusing_create_session,
              why="the seeded demo configuration is refused in a room"),
        Patch(otree.views.rest, "create_session", lambda: _refusing_create_session,
              why="the seeded demo configuration is refused in a room (REST API)"),
    ]
    # Unless a developer asked for debug pages (OTREE_DEBUG=1), a server error shows a calm
    # page in three languages instead of oTree's admin-facing error page. oTree builds its
    # 500 page from this template when it starts.
    if not otree.settings.DEBUG:
        patches.append(Patch(otree.errorpage, "TEMPLATE", lambda: instructor.ERROR_HTML,
                             why="a calm error page in three languages instead of oTree's debug page"))
    for view in instructor.ADMIN_VIEWS:
        # oTree collects its admin routes from the classes defined in otree.views.admin.
        patches.append(Patch(otree.views.admin, view.__name__, lambda view=view: view, must_exist=False,
                             why="our admin view, behind oTree's admin login"))
    return patches


def patches() -> list[Patch]:
    """Every patch `install()` applies, in order (see `Patch`)."""
    return _patches()


def installed_value(patch: Patch):
    """The value `install()` put in place for `patch` (None before install).

    patch: one of `patches()`.
    """
    return _installed.get((id(patch.target), patch.name))


def original_value(patch: Patch):
    """oTree's own value that `install()` replaced for `patch` (None if it added the name).

    patch: one of `patches()`.
    """
    value = _originals.get((id(patch.target), patch.name))
    return None if value is _MISSING else value


def existed_before(patch: Patch) -> bool:
    """Whether oTree had the attribute before `install()` replaced it.

    patch: one of `patches()`, after `install()`.
    """
    key = (id(patch.target), patch.name)
    return key in _originals and _originals[key] is not _MISSING


def apply(patch: Patch) -> None:
    """Apply one patch unless it is in place; refuse if oTree lacks a name it must have.

    patch: the patch (see `Patch`).
    """
    key = (id(patch.target), patch.name)
    if key in _installed:
        return
    original = getattr(patch.target, patch.name, _MISSING)
    if patch.must_exist and original is _MISSING:
        where = getattr(patch.target, "__name__", repr(patch.target))
        raise OtreeVersionError(
            f"oTree {otree.__version__} has no {where}.{patch.name}. {version_message(otree.__version__)}")
    value = patch.new()
    if patch.target is otree.views.admin:
        value.__module__ = otree.views.admin.__name__  # oTree collects views by module
    setattr(patch.target, patch.name, value)
    _originals[key] = original
    _installed[key] = value


def install() -> None:
    """Check oTree's version and apply every patch; a second call does nothing.

    Also hides client addresses in the server's access log (`privacy.install()`), so that
    this is the one call the app makes at start-up.
    """
    from . import privacy

    check_version()
    privacy.install()
    for patch in _patches():
        apply(patch)
