"""The one door into oTree (`collab_experiment/otree_glue.py`), checked without a server.

Fails on an oTree upgrade that renames or removes a name the project patches or reads,
and if any other module of the product starts touching oTree's internals itself.
"""

from __future__ import annotations

import pathlib
import re
import types

import pytest

import collab_experiment  # noqa: F401  (the app calls otree_glue.install() on import)
from collab_experiment import otree_glue
from collab_experiment.survey_page import SurveyPage

REPO = pathlib.Path(__file__).resolve().parent.parent


def test_the_pin_in_the_glue_is_the_pin_in_requirements():
    pins = re.findall(r"^otree==(\S+)", (REPO / "requirements.txt").read_text(), re.M)
    assert pins == [otree_glue.PINNED_OTREE]


def test_the_installed_otree_is_the_pinned_one():
    import otree

    assert otree.__version__ == otree_glue.PINNED_OTREE


@pytest.mark.parametrize("patch", otree_glue.patches(), ids=lambda p: f"{getattr(p.target, '__name__', p.target)}.{p.name}")
def test_each_patch_existed_in_otree_and_is_replaced(patch):
    installed = otree_glue.installed_value(patch)
    assert installed is not None, "install() did not apply this patch"
    assert getattr(patch.target, patch.name) is installed
    if patch.must_exist:
        assert otree_glue.existed_before(patch), "oTree had no such attribute before install()"
        assert otree_glue.original_value(patch) is not installed
    else:
        assert not otree_glue.existed_before(patch), "an addition would hide one of oTree's own names"


def test_install_is_idempotent():
    before = [getattr(p.target, p.name) for p in otree_glue.patches()]
    otree_glue.install()
    assert [getattr(p.target, p.name) for p in otree_glue.patches()] == before


def test_the_admin_views_are_collected_as_otree_admin_views():
    import otree.views.admin
    from collab_experiment import instructor

    for view in instructor.ADMIN_VIEWS:
        assert getattr(otree.views.admin, view.__name__) is view
        assert view.__module__ == otree.views.admin.__name__


@pytest.mark.parametrize("target,name", otree_glue.PRIVATE_NAMES, ids=lambda x: getattr(x, "__name__", x))
def test_each_private_name_read_exists_in_otree(target, name):
    assert hasattr(target, name)


def test_survey_pages_override_otrees_forced_submission():
    from otree.api import Page

    name = "_process_auto_submitted_form"
    assert getattr(SurveyPage, name) is getattr(otree_glue.ForcedPageHook, name)
    assert getattr(Page, name) is not getattr(otree_glue.ForcedPageHook, name)


def test_survey_pages_turn_pages_through_the_glue():
    from otree.api import Page

    for name in ("set_attributes", "get_object", "get_context_data", "post"):
        assert name in vars(otree_glue.PageTurnHook)
        assert getattr(Page, name) is not getattr(otree_glue.PageTurnHook, name)
    # SurveyPage's own context builds on the hook's, not on oTree's
    assert SurveyPage.__mro__.index(otree_glue.PageTurnHook) < SurveyPage.__mro__.index(Page)
    assert SurveyPage.set_attributes is otree_glue.PageTurnHook.set_attributes


def test_a_patch_on_a_name_otree_lacks_is_refused_with_the_message():
    patch = otree_glue.Patch(types.SimpleNamespace(__name__="otree.fake"), "gone", lambda: 1)
    with pytest.raises(otree_glue.OtreeVersionError, match=r"otree\.fake\.gone.*requirements\.txt"):
        otree_glue.apply(patch)


def test_a_different_otree_version_is_refused_with_a_clear_message():
    with pytest.raises(otree_glue.OtreeVersionError) as refused:
        otree_glue.check_version("6.1.0", allow=False)
    message = str(refused.value)
    for part in ("6.1.0", otree_glue.PINNED_OTREE, "requirements.txt", otree_glue.ALLOW_ENV,
                 "tests/test_otree_glue.py"):
        assert part in message


def test_a_different_version_warns_loudly_when_allowed(monkeypatch, capsys):
    monkeypatch.setenv(otree_glue.ALLOW_ENV, "1")
    with pytest.warns(RuntimeWarning, match="6.1.0"):
        otree_glue.check_version("6.1.0")
    assert "WARNING: oTree 6.1.0" in capsys.readouterr().err


def test_the_pinned_version_passes_silently():
    otree_glue.check_version(otree_glue.PINNED_OTREE, allow=False)



class _RowsOf:
    """Stands in for an oTree model: `values_dicts` returns the given rows and records each call."""

    def __init__(self, rows):
        self.rows, self.calls = rows, []

    def values_dicts(self, **filters):
        self.calls.append(filters)
        return [dict(r) for r in self.rows]


def test_the_session_reader_reads_players_and_participants_in_one_query_each(monkeypatch):
    session = object()
    players = _RowsOf([dict(id=11, participant_id=1, completed=True, manager="trust"),
                       dict(id=12, participant_id=2, completed=None, manager=None)])
    participants = _RowsOf([
        dict(id=1, visited=True, _vars={"consented": True}, _current_page_name="Finished",
             _last_request_timestamp=1700000000, code="secret1"),
        dict(id=2, visited=False, _vars=None, _current_page_name=None, _last_request_timestamp=None,
             code="secret2"),
    ])
    monkeypatch.setattr(otree_glue, "Participant", participants)
    got_players, got_participants = otree_glue.player_and_participant_rows(players, session)
    assert players.calls == [dict(session=session)]
    assert participants.calls == [dict(session=session)]
    assert got_players == players.rows  # the player rows as they are
    assert got_participants == {
        1: dict(visited=True, vars={"consented": True}, page="Finished", last_request=1700000000),
        2: dict(visited=False, vars={}, page=None, last_request=None),  # no vars yet: an empty dict
    }


def test_the_session_reader_reads_columns_otree_has():
    from otree.models import Participant

    columns = {c.name for c in Participant.__table__.columns}
    assert {"id", "visited", "_vars", "_current_page_name", "_last_request_timestamp"} <= columns


PRODUCT = ["settings.py", "consent", "collab_experiment", "analysis"]
INTERNAL_IMPORT = re.compile(r"^\s*(?:from|import)\s+otree\.(?!api\b)", re.M)
# oTree's private fields on its objects (a quoted "participant._is_bot" is a CSV column name)
PRIVATE_ATTRIBUTE = re.compile(r"(?<![\"'\w.])(?:participant|session|subsession|player|self)\._[a-z]\w*")


def product_files():
    for part in PRODUCT:
        path = REPO / part
        yield from ([path] if path.is_file() else sorted(path.rglob("*.py")))


def test_no_other_product_module_touches_otree_internals():
    offenders = []
    for path in product_files():
        if path.name == "otree_glue.py":
            continue
        source = path.read_text()
        for pattern in (INTERNAL_IMPORT, PRIVATE_ATTRIBUTE):
            offenders += [f"{path.relative_to(REPO)}: {m.group(0).strip()}" for m in pattern.finditer(source)]
    assert not offenders, "use collab_experiment/otree_glue.py:\n" + "\n".join(offenders)


# oTree's student-facing templates that _templates/otree/ replaces (same name, found first).
REPLACED_TEMPLATES = ["otree/WaitPageGeneric.html", "otree/OutOfRangeNotification.html"]


@pytest.mark.parametrize("name", REPLACED_TEMPLATES)
def test_otree_renders_our_replacement_of_its_template(name, monkeypatch):
    # An upgrade that renames the template, stops rendering it for students, or searches
    # its own folder first would bring back oTree's English pages without a failure.
    import inspect

    import otree
    import otree.views.participant
    from otree.templating import loader

    monkeypatch.chdir(REPO)  # oTree's template folders are relative to the project folder
    assert (pathlib.Path(otree.__file__).parent / "templates" / name).exists()
    assert f'"{name}"' in inspect.getsource(otree.views.participant) \
        or f"'{name}'" in inspect.getsource(otree.views.participant)
    found = loader.get_ibis_loader().search_template(name)
    assert found.resolve() == (REPO / "_templates" / name).resolve()


def test_the_waiting_page_listens_on_the_socket_otree_gives_it(monkeypatch):
    from otree.templating import loader

    class RoomView:  # what oTree passes: the view, with the socket's path
        def socket_url(self):
            return "/wait_for_session_in_room/oslo/?participant_label=&tab_unique_id=abc"

    monkeypatch.chdir(REPO)
    page = loader.get_ibis_loader().load("otree/WaitPageGeneric.html").render(
        dict(view=RoomView(), title_text="Please wait", body_text="Waiting for your session to begin"),
        strict_mode=True)
    assert 'data-socket-url="/wait_for_session_in_room/oslo/?participant_label=&amp;tab_unique_id=abc"' in page
    assert "new WebSocket(" in page and "location.reload()" in page
    assert "Please wait" not in page and "bootstrap" not in page


def request_for(path: str, **path_params):
    from starlette.requests import Request

    return Request(dict(type="http", method="GET", path=path, raw_path=path.encode(), query_string=b"",
                        headers=[], path_params=path_params))


@pytest.mark.parametrize("path", ["/p/abc123/consent/Consent/1", "/join/nope", "/InitializeParticipant/abc123",
                                  "/OutOfRangeNotification/abc123"])
def test_a_404_on_a_students_link_shows_the_friendly_page(path):
    import otree.patch
    from starlette.exceptions import HTTPException

    from collab_experiment import instructor

    middleware = otree.patch.ExceptionMiddleware(app=None)  # as oTree builds it, after install()
    response = middleware.http_exception(request_for(path), HTTPException(404, "This user does not exist"))
    assert response.status_code == 404 and response.body == instructor.bad_link_response().body
    assert b"does not exist" not in response.body


def test_the_admins_404s_and_other_errors_stay_otrees():
    import otree.patch
    from starlette.exceptions import HTTPException

    middleware = otree.patch.ExceptionMiddleware(app=None)
    admin = middleware.http_exception(request_for("/SessionMonitor/abc"), HTTPException(404, "Not found: Session"))
    assert (admin.status_code, admin.body) == (404, b"Not found: Session")
    other = middleware.http_exception(request_for("/p/abc/x/Consent/1"), HTTPException(405, "Method Not Allowed"))
    assert (other.status_code, other.body) == (405, b"Method Not Allowed")


def test_a_404_behind_a_proxy_with_a_root_path_still_shows_the_friendly_page():
    import otree.patch
    from starlette.exceptions import HTTPException
    from starlette.requests import Request

    from collab_experiment import instructor

    path = "/p/abc123/consent/Consent/1"
    request = Request(dict(type="http", method="GET", path=path, raw_path=path.encode(), root_path="/survey",
                           query_string=b"", headers=[(b"host", b"example.org")], path_params={}))
    middleware = otree.patch.ExceptionMiddleware(app=None)
    response = middleware.http_exception(request, HTTPException(404, "This user does not exist"))
    assert response.body == instructor.bad_link_response().body


def test_the_live_servers_middleware_stack_answers_404s_with_ours():
    """oTree builds its middleware stack (binding `http_exception`) when `otree.asgi` is
    imported; the patch must be in place by then, or only new middleware objects get it."""
    import otree.asgi
    import otree.patch
    from starlette.exceptions import HTTPException

    node, seen = otree.asgi.app.middleware_stack, 0
    while node is not None and not isinstance(node, otree.patch.ExceptionMiddleware) and seen < 50:
        node, seen = getattr(node, "app", None), seen + 1
    assert isinstance(node, otree.patch.ExceptionMiddleware), "oTree's stack has no ExceptionMiddleware"
    assert node._exception_handlers[HTTPException].__func__ is otree_glue._http_exception


def test_an_unknown_room_shows_the_friendly_page_and_a_known_one_is_otrees(monkeypatch):
    import otree.views.participant

    from collab_experiment import instructor

    view = otree.views.participant.AssignVisitorToRoom.__new__(otree.views.participant.AssignVisitorToRoom)
    response = view.get(request_for("/room/olso", room_name="olso"))
    assert response.status_code == 404 and response.body == instructor.bad_link_response().body
    monkeypatch.chdir(REPO)  # oTree's template folders are relative to the project folder
    welcome = view.get(request_for("/room/oslo", room_name="oslo"))  # settings.ROOMS
    assert welcome.status_code == 200 and b'href="?welcome_page_ok=1"' in welcome.body
