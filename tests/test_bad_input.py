"""Tampered and generated form values: never a server error, nothing stored outside its answer set."""

import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import contract
from student import Student, parse

# What may be stored after any attack: the vocabulary's answer codes, nothing else.
ANSWER_SETS = {
    **{field: set(codes) for field, codes in contract.ANSWER_CODES.items()},
    "gender": set(contract.ANSWER_CODES["gender"]) | {None},
    "partner_profession": set(contract.CATEGORIES["partner_profession"]),
    "block_position": {1, 2, 3, 4},
    **{item: set(contract.LIKERT) for item in contract.LIKERT_ITEMS},
}

junk = st.one_of(
    st.none(),
    st.integers(min_value=-10**12, max_value=10**12).map(str),
    st.text(max_size=40),
    st.sampled_from(["0", "8", "-1", "3.5", "1e3", "NaN", "true", "nursing ", "NURSING", "trust", "other",
                     "<script>alert(1)</script>", "' OR 1=1 --", "\x00", "x" * 200_000]),
)
# fields a student could try to set that no page offers
smuggled = st.dictionaries(
    st.sampled_from(["manager", "partner", "block", "block_position", "stratum", "completed", "withdrawn",
                     "assignment_probability", "withdrawal_code", "attention_pass", "mc_manager_correct",
                     "scale_order", "item_order"]),
    junk, max_size=4)


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    from conftest import Server, copy_project

    srv = Server(copy_project(tmp_path_factory.mktemp("bad") / "project")).start()
    srv.session = srv.create_session("classroom", 200, language="da")
    yield srv
    srv.stop()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
def test_generated_values_never_cause_a_server_error(shared_server, data):
    s = Student(shared_server.session["session_wide_url"], programme="management",
                seed=data.draw(st.integers(0, 10**6))).open()
    stop_at = data.draw(st.integers(0, 12), label="pages answered before tampering")
    for _ in range(stop_at):
        if s.page == "Finished":
            break
        s.answer_page()
    if s.page == "Finished":
        return
    fields = sorted(parse(s.response.text).radios) or ["age_confirmed", "consented"]
    # Which fields to tamper with, drawn as positions: the page's fields depend on the
    # student's random scale and item orders, and hypothesis needs the same kind of draws
    # whatever page it lands on.
    picks = data.draw(st.lists(st.integers(0, 4), unique=True, max_size=5), label="fields")
    payload = {fields[i % len(fields)]: data.draw(junk, label=fields[i % len(fields)]) for i in picks}
    payload.update(data.draw(smuggled, label="smuggled"))
    payload = {k: v for k, v in payload.items() if v is not None}
    r = s.post(payload)
    assert r.status_code < 500, r.text[:300]
    assert "Traceback" not in r.text


def test_everything_stored_stays_inside_its_answer_set(shared_server):
    # checks what the generated posts above left behind (same server), plus some finishers
    for i in range(3):
        Student(shared_server.session["session_wide_url"], programme="teacher", seed=i).open().walk()
    con = sqlite3.connect(shared_server.folder / "db.sqlite3")
    con.row_factory = sqlite3.Row
    rows = [dict(r) for r in con.execute("SELECT * FROM collab_experiment_player")]
    con.close()
    assert any(r["manager"] for r in rows)
    for r in rows:
        for field, allowed in ANSWER_SETS.items():
            if r[field] is not None:
                assert r[field] in allowed, (field, r[field])
        if r["manager"]:
            assert r["stratum"] == r["programme"] and r["assignment_probability"] == 0.25
            assert sorted(r["scale_order"].split(",")) == sorted(contract.RATED_SCALES)


def test_a_megabyte_in_a_field_is_refused_cleanly(shared_server):
    s = Student(shared_server.session["session_wide_url"], programme="nursing").open()
    s.answer_page()
    r = s.post({"year_of_study": "2", "age_band": "x" * 1_000_000})
    assert r.status_code in (200, 413) and s.page == "AboutYou"
    assert "Traceback" not in r.text


def test_made_up_codes_and_other_participants_urls_get_a_clear_answer(shared_server):
    import requests

    url = shared_server.url
    for path in ("/p/zzzzzzzz/consent/Consent/1", "/join/nonexistent", "/room/no_such_room",
                 "/InitializeParticipant/zzzzzzzz", "/p/../../etc/passwd"):
        r = requests.get(url + path, timeout=30)
        assert r.status_code in (200, 302, 400, 404), (path, r.status_code)
        assert "Traceback" not in r.text
    # a student who opens another page of their own out of order is sent back to theirs
    s = Student(shared_server.session["session_wide_url"], programme="nursing").open()
    s.answer_page()
    ahead = s.url.replace("/AboutYou/2", "/Debrief/12")
    r = s.http.get(ahead, timeout=30)
    assert r.url.endswith("/AboutYou/2")
