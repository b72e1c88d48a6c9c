"""The one door into oTree's internals.

oTree's public API (`otree.api`) has no hook for extra admin pages, a friendly "session is
full" page, the server's error page, a friendly page for a student's link that leads nowhere,
the participant-code generator, or stopping the page-timeout worker together with the server.
(oTree's student-facing templates, the room's waiting page among them, are replaced without
Python: `_templates/otree/` is searched before oTree's own templates.) This module is the only place in the
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
- Two mixins for pages put oTree's page methods in the app's hands: `ForcedPageHook` (a page
  the admin forced on stores nothing) and `PageTurnHook` (fewer statements per page turn, and
  the next page in the answer to survey.js's POST: one request per page turn). The oTree
  names they override or call are in `PRIVATE_NAMES` too.
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
import time
import weakref
import random
import subprocess
import sys
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import otree
import otree.cli.prodserver1of2
import otree.common
import otree.common2
import otree.database
import otree.lookup
import otree.errorpage
import otree.i18n
import otree.middleware
import otree.patch
import otree.room
import otree.session
import otree.settings
import otree.views.admin
import otree.views.participant
import otree.views.rest
from otree.api import Page
from otree.models import Participant, Session
from starlette.requests import Request
from otree.views.cbv import AdminSessionPage  # the base class of our admin views

PINNED_OTREE = "6.0.15"
ALLOW_ENV = "OTREE_GLUE_ALLOW_VERSION"

__all__ = [
    "AdminSessionPage", "ForcedPageHook", "PAGE_URL_HEADER", "INLINE_REQUEST_HEADER", "PageTurnHook", "OtreeVersionError", "PINNED_OTREE", "PRIVATE_NAMES",
    "anonymous_code", "apply", "check_version", "current_page_name", "existed_before",
    "expire_cached_rows", "form_field_names", "install", "installed_value", "is_bot",
    "model_metadata", "original_value", "page_progress", "patches", "raw_vars",
    "player_and_participant_rows", "redirect_to_current_page", "submitted_form_data",
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


def player_and_participant_rows(player_model, session) -> tuple[list[dict], dict[int, dict]]:
    """A session's rows of one app's players and of its participants as plain dicts, in two
    queries (`values_dicts`: no ORM objects, so nothing is marked changed or written back,
    and no query per student).

    player_model: the app's `Player` class.
    session: an oTree session.

    Returns `(players, participants)`: `players`, one dict of its columns per player row of
    the session (`participant_id` is its participant's key in `participants`), and
    `participants`, participant id -> dict with `visited` (opened the link), `vars` (the
    participant's vars, a dict, never None), `page` (the class name of the page the
    participant was last on, or None) and `last_request` (when they last asked for a
    page, seconds since the epoch, or None).
    """
    players = player_model.values_dicts(session=session)
    participants = {
        row["id"]: dict(visited=row["visited"], vars=row["_vars"] or {},
                        page=row["_current_page_name"], last_request=row["_last_request_timestamp"])
        for row in Participant.values_dicts(session=session)
    }
    return players, participants


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


# --- A page turn in one request, with fewer statements ----------------------------------

INLINE_REQUEST_HEADER = "X-Survey-Inline"  # sent by survey.js with a page's answers (fetch)
PAGE_URL_HEADER = "X-Survey-Page-Url"  # the URL of the page an inline answer shows

_players_loaded: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


class _LoadedOnUse:
    """A row for a template, loaded from the database only if the template reads it."""

    __slots__ = ("_load", "_row")

    def __init__(self, load):
        object.__setattr__(self, "_load", load)
        object.__setattr__(self, "_row", _MISSING)

    def _get(self):
        if self._row is _MISSING:
            object.__setattr__(self, "_row", self._load())
        return self._row

    def __getattr__(self, name):
        return getattr(self._get(), name)

    def __getitem__(self, key):
        return self._get()[key]

    def __bool__(self):
        return bool(self._get())

    def __str__(self):
        return str(self._get())


class PageTurnHook:
    """Mixin for a Page: a page turn with fewer round trips to the database, and (for
    survey.js) in one request.

    Fewer statements (the database is reached inside oTree's one lock, so each round trip
    is time every other student waits):
    - `set_attributes` reuses the player row already loaded in this request for the same
      participant, app and round (oTree queries it again for every page it looks at while
      skipping pages, and for the page shown next);
    - the form's object is the player without loading the group row (`get_object`);
    - the template context offers group, subsession and session as rows loaded only if
      the template reads them (oTree loads all three on every page).

    One request per page turn: when a POST carries the header `X-Survey-Inline: 1`
    (survey.js's fetch) and oTree answers it with its redirect to the next page, that
    page is rendered here, in the same request, under the same lock and in the same
    transaction, exactly as oTree's GET would render it (`get()`: `is_displayed`
    skipping, monitor table, timeouts, the page's own stamps), and returned with its URL
    in the header `X-Survey-Page-Url`. The redirect stays whenever the next page is not
    one of ours (another kind of page, a wait page, the end of the study), when the
    rendering fails, and for every request without the header (no JavaScript, the
    timeout worker, bots). Form errors are answered by oTree as before (the same page,
    200).
    """

    def set_attributes(self, participant):  # oTree's name (PRIVATE_NAMES)
        """oTree's `set_attributes`, reusing the player row already loaded in this request.

        participant: the participant the request is for.
        """
        lookup = otree.lookup.get_page_lookup(participant._session_code, participant._index_in_pages)
        models_module = otree.common.get_models_module(lookup.app_name)
        PlayerClass = models_module.Player
        loaded = _players_loaded.setdefault(participant, {})
        key = (PlayerClass, lookup.round_number)
        player = loaded.get(key)
        if player is None:
            player = loaded[key] = PlayerClass.objects_get(participant=participant, round_number=lookup.round_number)
        self._lookup = lookup
        self._Constants = otree.common.get_constants(lookup.app_name)
        self.PlayerClass = PlayerClass
        self.GroupClass = models_module.Group
        self.SubsessionClass = models_module.Subsession
        self.player = player
        self._subsession_pk = lookup.subsession_id
        self.round_number = lookup.round_number
        self._session_pk = lookup.session_pk
        self._participant_pk = participant.id
        self.participant = participant
        self._index_in_pages = participant._index_in_pages
        participant._current_app_name = lookup.app_name
        participant._current_page_name = type(self).__name__
        participant._last_request_timestamp = int(time.time())
        participant._round_number = lookup.round_number

    def get_object(self):  # oTree's name (PRIVATE_NAMES)
        """The form's object: the player already loaded, without loading the group row."""
        if self.form_model in ("player", getattr(self, "PlayerClass", None)):
            return self.player
        return super().get_object()

    def get_context_data(self, **context):
        """oTree's template context, with group, subsession and session loaded on use.

        context: what oTree passes in (its form, errors, ...), extended and returned.
        """
        # oTree's base context (FormPageOrInGameWaitPage.get_context_data), with the
        # group, subsession and session rows loaded only if the template reads them.
        has_trial = self.has_trial()
        context.update(
            view=self,
            object=getattr(self, "object", None),
            player=self.player,
            group=_LoadedOnUse(lambda: self.group),
            subsession=_LoadedOnUse(lambda: self.subsession),
            session=_LoadedOnUse(lambda: self.session),
            participant=self.participant,
            timer_text=getattr(self, "timer_text", None),
            current_page_name=type(self).__name__,
            has_live_method=bool(getattr(self, "live_method", None)),
            has_trial=has_trial,
            use_standard_layout=not (has_trial or self.use_blank_layout),
            powered_by_otree=otree.i18n.core_gettext("Powered by {product_name}").format(
                product_name='<a href="https://www.otree.org/" target="_blank" class="link-secondary">oTree</a>'),
        )
        context[self._Constants.__name__] = self._Constants
        user_vars = self.call_user_defined("vars_for_template") or {}
        if not isinstance(user_vars, dict):
            raise TypeError("vars_for_template did not return a dict")
        context["js_vars"] = otree.common2.json_dumps(self.call_user_defined("js_vars"))
        context.update(user_vars)
        if otree.settings.DEBUG:
            self.debug_tables = self._get_debug_tables(user_vars)
        return context

    def post(self):  # oTree's name (PRIVATE_NAMES)
        """oTree's POST; for survey.js (`X-Survey-Inline: 1`) the next page in the same answer."""
        response = super().post()
        # no request: oTree submitting the page itself (the admin's advance, a timeout)
        request = getattr(self, "request", None)
        if response is None or response.status_code != 302 or request is None \
                or request.headers.get(INLINE_REQUEST_HEADER) != "1":
            return response
        try:
            return self._next_page_inline() or response
        except Exception:  # the answer is stored; the redirect shows the page as before
            logging.getLogger("collab_experiment").exception("inline page failed; redirecting")
            return response

    def _next_page_inline(self):
        """The page the participant should now be on, rendered as oTree's GET renders it,
        with its URL in `PAGE_URL_HEADER`; None where oTree's redirect must answer."""
        participant = self.participant
        for _ in range(participant._max_page_index + 1):
            if not participant.visited or participant._index_in_pages > participant._max_page_index:
                return None  # the end of the study: oTree's own page
            lookup = otree.lookup.get_page_lookup(participant._session_code, participant._index_in_pages)
            page_class = lookup.page_class
            if not (isinstance(page_class, type) and issubclass(page_class, PageTurnHook)):
                return None  # a wait page, or a page that is not ours
            url = participant._url_i_should_be_on()
            scope = dict(
                self.scope, method="GET", path=url, raw_path=url.encode(), query_string=b"",
                path_params=dict(participant_code=participant.code, page_index=participant._index_in_pages),
            )
            page = page_class(scope, self.receive, self.send)
            page.request = Request(scope, receive=self.receive)
            page.set_attributes(participant)
            response = page.get()
            if response.status_code == 302:
                continue  # not displayed: oTree's GET moved the participant on
            if response.status_code != 200:
                return None
            response.headers[PAGE_URL_HEADER] = url
            return response
        return None


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
    # PageTurnHook: oTree's page methods it overrides or calls, the fields it sets
    (Page, "set_attributes"),
    (Page, "get_object"),
    (Page, "get_context_data"),
    (Page, "post"),
    (Page, "get"),
    (Page, "has_trial"),
    (Page, "use_blank_layout"),
    (Page, "call_user_defined"),
    (Page, "_get_debug_tables"),
    (Participant, "_session_code"),
    (Participant, "_current_app_name"),
    (Participant, "_round_number"),
    (Participant, "_url_i_should_be_on"),
    (otree.lookup, "get_page_lookup"),
    (otree.common, "get_models_module"),
    (otree.common, "get_constants"),
    (otree.common2, "json_dumps"),
    (otree.i18n, "core_gettext"),
    (otree.room, "ROOM_DICT"),
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


#: Paths of a student's links (pages, the session-wide link, rooms, oTree's start and end
#: hops): a 404 there shows the student `instructor.bad_link_response()`.
STUDENT_PATHS = ("/p/", "/join/", "/room/", "/InitializeParticipant/", "/OutOfRangeNotification/")
_original_room_get = otree.views.participant.AssignVisitorToRoom.get
_original_http_exception = otree.patch.ExceptionMiddleware.http_exception


def _room_get(self, request):
    """oTree's room link, with a friendly page in three languages for a room that does not
    exist (oTree answers a bare 'Invalid room specified in url')."""
    from . import instructor

    if request.path_params["room_name"] not in otree.room.ROOM_DICT:
        return instructor.bad_link_response()
    return _original_room_get(self, request)


def _http_exception(self, request, exc):
    """oTree's (Starlette's) answer to an HTTP error, with a friendly page in three languages
    for a 404 on a student's link (oTree answers e.g. a participant of a deleted session with
    "This user does not exist in the database ..." as plain text). Elsewhere (the admin) as before."""
    from . import instructor

    # the path as routed (without an ASGI root_path a proxy may have set)
    if exc.status_code == 404 and request.scope.get("path", "").startswith(STUDENT_PATHS):
        return instructor.bad_link_response()
    return _original_http_exception(self, request, exc)


def _patches() -> list[Patch]:
    from . import instructor  # late: instructor imports this module

    patches = [
        Patch(otree.common, "rng", lambda: random.SystemRandom(),
              why="participant and session codes from the OS's cryptographic source, not a Mersenne Twister"),
        Patch(otree.views.participant, "no_participants_left_http_response",
              lambda: instructor.full_session_response,
              why="a friendly 'this session is full' page in three languages"),
        Patch(otree.views.participant.AssignVisitorToRoom, "get", lambda: _room_get,
              why="a friendly 'this link does not work' page in three languages for an unknown room"),
        # Starlette's ExceptionMiddleware binds this method when oTree builds its middleware
        # stack, which happens when `otree.asgi` is imported; that module imports the apps
        # (and so runs install()) first. test_otree_glue checks the live stack uses ours.
        Patch(otree.patch.ExceptionMiddleware, "http_exception", lambda: _http_exception,
              why="a friendly 'this link does not work' page for a 404 on a student's link"),
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
