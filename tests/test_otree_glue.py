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
