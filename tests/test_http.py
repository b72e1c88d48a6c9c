"""The student's path over real HTTP against `otree prodserver` on 127.0.0.1 (SQLite)."""

import collections
import concurrent.futures
import sqlite3
import threading

import pytest

from analysis import contract
from collab_experiment import assignment, texts
from student import Student

PROGRAMMES = assignment.PROGRAMMES


def table(server, name: str) -> list[dict]:
    """Every row of one table of the server's SQLite database."""
    con = sqlite3.connect(server.folder / "db.sqlite3")
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(f"SELECT * FROM {name}")]
    finally:
        con.close()


def players(server) -> list[dict]:
    return table(server, "collab_experiment_player")


def consent_rows(server) -> list[dict]:
    return table(server, "consent_player")


def assert_blocks_are_sound(rows):
    """Per stratum: blocks numbered 1..B, positions 1..k without gaps or repeats,
    each block's cells distinct. That is the guarantee at every moment."""
    by_stratum = collections.defaultdict(lambda: collections.defaultdict(list))
    for r in rows:
        by_stratum[r["stratum"]][r["block"]].append((r["block_position"], r["manager"], r["partner"]))
    for stratum, blocks in by_stratum.items():
        assert sorted(blocks) == list(range(1, len(blocks) + 1)), stratum
        for number, members in blocks.items():
            positions = sorted(p for p, _, _ in members)
            assert positions == list(range(1, len(members) + 1)), (stratum, number, positions)
            cells = [(m, q) for _, m, q in members]
            assert len(set(cells)) == len(cells), (stratum, number, cells)
            if number < len(blocks):
                assert len(members) == 4, (stratum, number)


def test_two_hundred_phones_at_once_all_finish_balanced_in_the_export(server):
    import csv
    import io

    import requests

    n = 200
    session = server.create_session("classroom", n + 10)
    students = [Student(session["session_wide_url"], programme=PROGRAMMES[i % 5], seed=i, timeout=300)
                for i in range(n)]
    at_programme = threading.Barrier(n, timeout=600)

    def walk(student):
        student.open()
        student.walk(until="Programme")
        at_programme.wait()  # everyone presses Next on the programme page together
        student.answer_page()
        assert student.page == "Vignette"
        student.walk()
        return student.page

    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        pages = list(pool.map(walk, students))
    assert pages == ["Finished"] * n
    rows = [r for r in players(server) if r["manager"]]
    assert len(rows) == n
    assert len({(r["stratum"], r["block"], r["block_position"]) for r in rows}) == n
    assert_blocks_are_sound(rows)
    chosen = {s.code: s.programme for s in students}
    code_of = participant_codes(server)
    assert all(chosen[code_of[r["participant_id"]]] == r["programme"] for r in rows)

    export = requests.get(server.url + "/api/export_app_custom",
                          params=dict(app="collab_experiment", session_code=session["code"]), timeout=120)
    table = list(csv.DictReader(io.StringIO(export.text)))
    assert list(table[0])[: len(contract.TIDY_COLUMNS)] == list(contract.TIDY_COLUMNS)
    done = [r for r in table if r["completed"] == "1"]
    assert len(done) == n
    counts = collections.defaultdict(collections.Counter)
    for r in done:
        counts[r["programme"]][(r["manager"], r["partner"])] += 1
    assert set(counts) == set(PROGRAMMES)
    assert all(assignment.max_imbalance(c) <= 1 for c in counts.values())


def participant_codes(server) -> dict:
    con = sqlite3.connect(server.folder / "db.sqlite3")
    try:
        return dict(con.execute("SELECT id, code FROM otree_participant"))
    finally:
        con.close()


def test_a_wrong_answer_is_asked_again_in_danish_without_a_traceback(server):
    session = server.create_session("classroom", 2, language="da")
    s = Student(session["session_wide_url"]).open()
    assert texts.load("da")["consent"]["agree"] in s.response.text
    s.answer_page()
    assert s.page == "AboutYou"
    r = s.post({"year_of_study": "9", "age_band": "22_24"})  # out of range, and answers missing
    assert r.status_code == 200 and s.page == "AboutYou"
    assert texts.load("da")["ui"]["error_choose"] in r.text
    assert "Traceback" not in r.text and "This field is required" not in r.text
    assert 'aria-invalid="true"' in r.text


def test_language_switch_on_the_first_page_is_shown_and_recorded(server):
    session = server.create_session("classroom", 2, language="nb")
    s = Student(session["session_wide_url"]).open()
    assert 'lang="nb"' in s.response.text
    s.switch_language("en")
    assert s.page == "Consent" and 'lang="en"' in s.response.text
    assert texts.load("en")["consent"]["decline"] in s.response.text
    assert consent_rows(server)[0]["consented"] is None  # switching stores no answer
    s.walk()
    assert s.page == "Finished"
    assert texts.load("en")["finished"]["body"] in s.response.text
    [row] = [r for r in players(server) if r["completed"]]
    assert row["language"] == "en"


def test_declining_ends_on_the_same_page_as_finishing_and_stores_nothing(server):
    session = server.create_session("classroom", 2, language="en")
    decliner = Student(session["session_wide_url"]).open()
    decliner.post({"consented": "False"})
    finisher = Student(session["session_wide_url"], seed=3).open()
    finisher.walk()
    assert decliner.page == finisher.page == "Finished"
    main = lambda html: html.split("<main")[1].split("</main>")[0]
    # exactly the same visible page: no progress counter that would tell them apart
    assert main(decliner.response.text) == main(finisher.response.text)
    assert "Step" not in main(decliner.response.text)
    declined = [r for r in consent_rows(server) if r["consented"] == 0]
    assert len(declined) == 1 and declined[0]["age_confirmed"] is None and declined[0]["language"] is None
    answers = [r for r in players(server) if r["programme"] or r["psm_1"] or r["manager"]]
    assert len(answers) == 1  # only the finisher


def test_double_submit_and_reload_never_assign_twice(server):
    session = server.create_session("classroom", 4, language="en")
    s = Student(session["session_wide_url"], programme="nursing").open()
    s.walk(until="Programme")
    programme_url = s.url
    s.answer_page()
    assert s.page == "Vignette"
    first = [r for r in players(server) if r["manager"]]
    # a second tap on the old page's Next, and a reload of the new page
    again = s.http.post(programme_url, data={"programme": "teacher"}, timeout=30)
    assert again.status_code == 200 and "/Vignette/" in again.url
    s.http.get(s.url, timeout=30)
    back = s.http.get(programme_url, timeout=30)  # the browser's back button
    assert "/Vignette/" in back.url
    after = [r for r in players(server) if r["manager"]]
    assert after == first
    assert after[0]["programme"] == "nursing"
    # the next nursing student takes the next position in the block
    t = Student(session["session_wide_url"], programme="nursing", seed=9).open()
    t.walk(until="Vignette")
    positions = sorted(r["block_position"] for r in players(server) if r["stratum"] == "nursing")
    assert positions == [1, 2]


@pytest.mark.parametrize("payload", [
    {"programme": "x" * 100_000},
    {"programme": "nursing", "programme_level": "bachelor", "manager": "trust", "partner": "same", "block": "99",
     "scale_order": "autonomy,autonomy,autonomy,autonomy"},
    {"programme": ""},
])
def test_tampered_programme_posts_get_a_clear_page_and_store_nothing_wrong(server, payload):
    session = server.create_session("classroom", 2, language="en")
    s = Student(session["session_wide_url"], programme="nursing").open()
    s.walk(until="Programme")
    r = s.post(payload)
    assert r.status_code == 200
    rows = players(server)
    if payload.get("programme") == "nursing":
        # the extra fields were ignored: assignment came from the algorithm
        [row] = [r for r in rows if r["manager"]]
        assert row["block"] == 1 and row["assignment_version"] == assignment.ASSIGNMENT_VERSION
        assert sorted(row["scale_order"].split(",")) == sorted(contract.RATED_SCALES)
    else:
        assert s.page == "Programme" and texts.load("en")["ui"]["error_choose"] in r.text
        assert all(row["manager"] is None for row in rows)


def test_a_students_link_that_leads_nowhere_shows_a_page_in_every_language(server):
    """A mistyped room, a participant whose session was deleted, a session-wide link that
    is gone: our page in three languages, not oTree's English plain text."""
    import requests

    wanted = [f'<section lang="{lang}"><h1>{texts.load(lang)["bad_link"]["title"]}</h1>'
              for lang in contract.LANGUAGES]
    for path in ("/room/olso", "/room/olso?welcome_page_ok=1", "/p/nosuchcode/consent/Consent/1",
                 "/InitializeParticipant/nosuchcode", "/join/nosuchcode"):
        r = requests.get(server.url + path, timeout=30)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html"), path
        assert all(w in r.text for w in wanted) and "does not exist" not in r.text, path
    admin = requests.get(server.url + "/SessionMonitor/nosuchcode", timeout=30)  # the admin's: oTree's
    assert admin.status_code == 404 and "Not found" in admin.text and wanted[0] not in admin.text


def test_a_server_error_shows_no_traceback_to_the_student(project):
    """Even without OTREE_PRODUCTION (the quick start), oTree's debug pages stay off."""
    from conftest import Server

    # a page whose code fails, in a throw-away copy of the project
    init = project / "collab_experiment" / "__init__.py"
    init.write_text(init.read_text().replace(
        "    @staticmethod\n    def before_next_page(player, timeout_happened):\n        attention =",
        "    @staticmethod\n    def before_next_page(player, timeout_happened):\n        1 / 0\n        attention =", 1))
    srv = Server(project).start()
    try:
        session = srv.create_session("classroom", 2, language="en")
        s = Student(session["session_wide_url"], programme="nursing").open()
        s.walk(until="Motivation")
        r = s.post({"psm_1": "4", "psm_2": "4", "attention": "3", "psm_3": "4"})
        assert r.status_code == 500
        assert "Traceback" not in r.text and "ZeroDivisionError" not in r.text and "1 / 0" not in r.text
        assert "reload the page" in r.text and 'lang="da"' in r.text
        assert "ZeroDivisionError" in srv.log()  # the operator still finds it in the log
    finally:
        srv.stop()


def test_site_programme_names_and_study_details_in_the_students_language(project):
    """A deployment's own programme names for its site, and its study details per language."""
    import settings
    from conftest import Server

    srv = Server(project, env={
        "PROGRAMME_NAMES_OSLO_EN": "public_admin=Public Administration and Leadership",
        "STUDY_STORAGE_DA": "på Aarhus Universitets server",
    }).start()
    try:
        session = srv.create_session("classroom", 4, language="da")
        for language in texts.LANGUAGES:
            s = Student(session["session_wide_url"]).open()
            if language != "da":
                s.switch_language(language)
            letter = s.response.text
            own = settings.STUDY_TEXT_DEFAULTS
            for name, values in own.items():
                for other, value in values.items():
                    if other != language and value not in values[language]:
                        assert value not in letter, (language, name, value)
            assert ("på Aarhus Universitets server" in letter) == (language == "da")
        s = Student(session["session_wide_url"], programme="public_admin").open()
        s.switch_language("en")
        s.answer_page()  # consent
        s.answer_page({"campus": "oslo"})
        s.walk(until="Programme")
        assert "Public Administration and Leadership" in s.response.text
        assert texts.load("en")["questions"]["programme_level"]["label"] in s.response.text
        s.walk()
        assert s.page == "Finished"
        [row] = [r for r in table(srv, "collab_experiment_player") if r["completed"]]
        assert row["programme"] == "public_admin" and row["site"] == "oslo"
    finally:
        srv.stop()
