"""A student's withdrawal code, followed through the database, every export and the report."""

import csv
import io
import re
import sqlite3
import subprocess
import sys

import requests

from analysis import contract
from student import Student


def export(server, path, **params):
    r = requests.get(server.url + path, params=params, timeout=60)
    r.raise_for_status()
    return r.text


def test_a_withdrawal_removes_the_answers_from_database_exports_and_report(server, tmp_path):
    session = server.create_session("classroom", 10, language="en")
    students, codes = [], []
    for i in range(8):
        s = Student(session["session_wide_url"], programme=["nursing", "teacher"][i % 2], seed=i).open()
        s.walk(until="Debrief")
        codes.append(re.search(r'id="withdrawal-code">([A-Z0-9-]+)<', s.response.text).group(1))
        s.walk()
        students.append(s)
    leaver, code = students[3], codes[3]

    # the student writes the code in lower case with a space: still found
    typed = code.lower().replace("-", " ")
    result = subprocess.run([sys.executable, "-m", "collab_experiment.manage", "withdraw", typed, "ZZZZ-ZZZZ"],
                            cwd=server.folder, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1  # one code matched nobody, and says so
    assert f"{typed}: withdrawn" in result.stdout and "ZZZZ-ZZZZ: not found" in result.stdout

    # the instructor's live counts: the one who withdrew reached the debrief, so counts as
    # finished (no count of withdrawals, nobody "answering now" or "still answering")
    live = requests.get(f"{server.url}/ClassCounts/{session['code']}", timeout=30).json()
    assert live["progress"] == {"joined": 8, "not_started": 0, "in_progress": 0, "left": 0, "finished": 8,
                                "declined": 0}
    assert live["still_answering"] == 0
    report = requests.get(f"{server.url}/AdminReport/{session['code']}", timeout=30).text
    assert 'id="class-results-warning"' not in report

    con = sqlite3.connect(server.folder / "db.sqlite3")
    con.row_factory = sqlite3.Row
    row = dict(con.execute(
        "SELECT p.* FROM collab_experiment_player p JOIN otree_participant q ON p.participant_id = q.id "
        "WHERE q.code = ?", (leaver.code,)).fetchone())
    consent = dict(con.execute(
        "SELECT c.* FROM consent_player c JOIN otree_participant q ON c.participant_id = q.id "
        "WHERE q.code = ?", (leaver.code,)).fetchone())
    con.close()
    assert row["withdrawn"] == 1
    answers = [c for c in contract.EXPORT_COLUMNS if c in row and c not in ("withdrawn", "withdrawal_code")]
    assert answers and all(row[c] is None for c in answers)
    assert consent["language"] is None and consent["age_confirmed"] is None

    custom = list(csv.DictReader(io.StringIO(
        export(server, "/api/export_app_custom", app="collab_experiment", session_code=session["code"]))))
    [mine] = [r for r in custom if r["participant_code"] == leaver.code]
    assert mine["withdrawn"] == "1"
    assert all(mine[c] == "" for c in contract.TIDY_COLUMNS
               if c not in ("participant_code", "session_code", "consented", "assigned", "completed",
                            "withdrawn", "last_page", "timed_out_pages"))
    wide = export(server, "/api/export_wide", session_code=session["code"])
    [wide_row] = [r for r in csv.DictReader(io.StringIO(wide)) if r["participant.code"] == leaver.code]
    assert all(v == "" for k, v in wide_row.items()
               if k.startswith("collab_experiment.1.player.") and k.split(".")[-1] in answers)

    # the analysis: nothing of theirs in tidy data, codebook counts or the report
    (tmp_path / "custom.csv").write_text(
        export(server, "/api/export_app_custom", app="collab_experiment", session_code=session["code"]))
    out = tmp_path / "report"
    run = subprocess.run([sys.executable, "-m", "analysis", "report", str(tmp_path / "custom.csv"), "--out", str(out)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    with (out / "tidy.csv").open(newline="") as f:
        tidy_rows = {r["participant_code"]: r for r in csv.DictReader(f)}
    kept = tidy_rows[leaver.code]
    assert kept["withdrawn"] in ("1", "True", "true")
    assert all(kept[c] == "" for c in ("programme", "manager", "attract_1", "attractiveness", "psm", "age_band"))
    others = [r for k, r in tidy_rows.items() if k != leaver.code]
    assert all(r["programme"] for r in others)
    html = (out / "report.html").read_text()
    assert leaver.code not in html and code not in html
