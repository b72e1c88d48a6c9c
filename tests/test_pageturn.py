"""One request per page turn (issue 12): a POST from survey.js (`X-Survey-Inline: 1`) is
answered with the next page itself, its URL in `X-Survey-Page-Url`, against a real
`otree prodserver` (SQLite). Without the header, and wherever the next page is not one of
ours, oTree's redirect answers as before."""

from __future__ import annotations

import base64
import csv
import io
import pickle
import sqlite3

import requests

from student import INLINE_REQUEST_HEADER, PAGE_URL_HEADER, Student, choose_answers, parse, url_part

INLINE = {INLINE_REQUEST_HEADER: "1"}


def row(server, table: str, **where) -> dict:
    con = sqlite3.connect(server.folder / "db.sqlite3")
    con.row_factory = sqlite3.Row
    try:
        clause = " AND ".join(f"{k} = ?" for k in where)
        rows = [dict(r) for r in con.execute(f"SELECT * FROM {table} WHERE {clause}", tuple(where.values()))]
    finally:
        con.close()
    assert len(rows) == 1, rows
    return rows[0]


def participant(server, code: str) -> dict:
    return row(server, "otree_participant", code=code)


def player(server, code: str) -> dict:
    return row(server, "collab_experiment_player", participant_id=participant(server, code)["id"])


def page_times(server, code: str) -> list[dict]:
    r = requests.get(server.url + "/api/export_page_times", timeout=30)
    r.raise_for_status()
    return [t for t in csv.DictReader(io.StringIO(r.text)) if t["participant_code"] == code]


def at(server, page: str, seed: int = 1) -> Student:
    session = server.create_session("classroom", 4)
    s = Student(session["session_wide_url"], programme="nursing", seed=seed, language="en").open()
    s.walk(until=page)
    assert s.page == page
    return s


def test_a_post_answered_inline_stores_exactly_once_and_shows_the_next_page(server):
    s = at(server, "Scale1")
    scale_url = s.url
    answers = choose_answers(s.response.text, s.page, s.rng)
    before = participant(server, s.code)
    r = s.http.post(scale_url, data=answers, headers=INLINE, allow_redirects=False, timeout=60)
    assert r.status_code == 200 and not r.history  # one request, no redirect
    shown = r.headers[PAGE_URL_HEADER]
    assert url_part(shown, "page") == "Scale2"
    assert int(url_part(shown, "index")) == int(url_part(scale_url, "index")) + 1
    # the page shown is the page a GET of its URL shows
    got = s.http.get(server.url + shown, allow_redirects=False, timeout=30)
    assert got.status_code == 200 and 'id="survey-js"' in r.text
    assert parse(r.text).radios == parse(got.text).radios != {}
    stored = player(server, s.code)
    assert all(str(stored[k]) == v for k, v in answers.items())
    after = participant(server, s.code)
    assert after["_index_in_pages"] == before["_index_in_pages"] + 1
    assert after["_current_page_name"] == "Scale2"  # what oTree's GET records for the monitor
    assert [t["page_name"] for t in page_times(server, s.code)].count("Scale1") == 1


def test_a_replayed_post_to_the_old_url_stores_nothing(server):
    s = at(server, "Scale1", seed=2)
    scale_url = s.url
    form = s.response.text
    first = choose_answers(form, "Scale1", s.rng)
    r = s.http.post(scale_url, data=first, headers=INLINE, allow_redirects=False, timeout=60)
    assert r.status_code == 200 and url_part(r.headers[PAGE_URL_HEADER], "page") == "Scale2"
    stored, where = player(server, s.code), participant(server, s.code)
    # the same page sent again (a retry whose answer was lost), with other answers
    other = {k: ("1" if v != "1" else "2") for k, v in first.items()}
    again = s.http.post(scale_url, data=other, headers=INLINE, allow_redirects=False, timeout=60)
    assert again.status_code == 302 and PAGE_URL_HEADER not in again.headers  # oTree's stale-URL redirect
    assert url_part(again.headers["location"], "page") == "Scale2"
    assert player(server, s.code) == stored
    assert participant(server, s.code)["_index_in_pages"] == where["_index_in_pages"]
    assert [t["page_name"] for t in page_times(server, s.code)].count("Scale1") == 1


def test_without_the_header_the_post_is_answered_with_oTrees_redirect(server):
    s = at(server, "Motivation", seed=3)
    r = s.http.post(s.url, data=choose_answers(s.response.text, s.page, s.rng), allow_redirects=False, timeout=60)
    assert r.status_code == 302 and PAGE_URL_HEADER not in r.headers
    assert url_part(r.headers["location"], "page") == "Programme"


def test_form_errors_come_back_as_the_same_page_without_a_new_url(server):
    s = at(server, "Motivation", seed=4)
    r = s.http.post(s.url, data={}, headers=INLINE, allow_redirects=False, timeout=60)
    assert r.status_code == 200 and PAGE_URL_HEADER not in r.headers
    assert 'class="error"' in r.text or "has-error" in r.text
    assert participant(server, s.code)["_current_page_name"] == "Motivation"


def test_inline_skips_pages_not_displayed_and_stamps_what_the_get_stamps(server):
    # declining: every page after consent is skipped (is_displayed), the end page shown inline
    session = server.create_session("classroom", 2)
    s = Student(session["session_wide_url"], seed=5, inline=True).open()
    r = s.post({"consented": "False"})
    assert r.status_code == 200 and not r.history and s.page == "Finished"
    assert participant(server, s.code)["_current_page_name"] == "Finished"
    # and the vignette's shown-at stamp (set by its page, as a GET sets it) comes with the
    # inline answer to the programme page
    t = Student(session["session_wide_url"], programme="teacher", seed=6, inline=True).open()
    t.walk(until="Vignette")
    assert not t.response.history and url_part(t.url, "page") == "Vignette"
    stored_vars = pickle.loads(base64.b64decode(participant(server, t.code)["_vars"]))  # oTree's encoding
    assert isinstance(stored_vars["vignette_shown_at"], float)


def test_the_admins_advance_still_submits_a_page_oTree_submits_itself(server):
    # oTree posts the page without a request of its own (`_submit_current_page`): the
    # page turn must fall back to oTree's own handling, not fail on the missing request
    import re

    s = at(server, "Motivation", seed=7)
    admin = requests.Session()
    monitor = admin.get(f"{server.url}/SessionMonitor/{_session_code(server, s.code)}", timeout=30).text
    token = re.search(r'name="csrftoken" value="([^"]+)"', monitor).group(1)
    r = admin.post(f"{server.url}/AdvanceSession/{_session_code(server, s.code)}",
                   data=dict(csrftoken=token, advancemode="visited_only"), timeout=30)
    assert r.status_code == 200
    assert participant(server, s.code)["_current_page_name"] == "Programme"
    assert player(server, s.code)["timed_out_pages"] == "Motivation"


def _session_code(server, participant_code: str) -> str:
    return row(server, "otree_session", id=participant(server, participant_code)["session_id"])["code"]
