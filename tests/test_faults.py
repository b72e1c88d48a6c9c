"""Faults in the middle of a class: the server killed, PostgreSQL restarted, exports running.

The promise: every answer the server acknowledged (by moving the student on) is stored,
and students carry on where they were. Only the tests' own throw-away PostgreSQL
(`throwaway_postgres.py`) is restarted, never the machine's.
"""

import concurrent.futures
import random
import sqlite3
import threading
import time

import psycopg2
import psycopg2.extras
import pytest
import requests

from conftest import PRODUCTION_ENV, Server, admin_login, require, wait_until
from student import Student

PROGRAMMES = ("nursing", "teacher", "management", "public_admin", "other")
FLOW_FIELDS = ("consented", "age_confirmed")


class PatientStudent(Student):
    """Retries a submission the server did not acknowledge, as the page's script does."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.acknowledged: dict[str, str] = {}

    def submit_until_acknowledged(self, deadline: float) -> None:
        while True:
            before = self.url
            try:
                data = self.answer_page()
                if self.response.status_code < 500 and self.url != before:
                    self.acknowledged.update({k: v for k, v in data.items() if k not in FLOW_FIELDS})
                    return
            except requests.RequestException:
                pass
            if time.time() > deadline:
                raise AssertionError(f"no acknowledgement for {before}")
            time.sleep(0.5)  # the retry interval of the page's own script, not a synchronisation
            try:  # reopen the page the server thinks we are on
                self.response = self.http.get(before, timeout=30)
            except requests.RequestException:
                self.response = type("R", (), {"url": before, "status_code": 599, "text": ""})()

    def finish(self, deadline: float) -> None:
        for _ in range(30):
            if self.page in ("Finished",):
                return
            self.submit_until_acknowledged(deadline)
        raise AssertionError("too many pages")


def stored(rows_by_code: dict, student) -> dict:
    row = rows_by_code[student.code]
    return {k: row[k] for k in student.acknowledged}


def sqlite_rows(server) -> dict:
    con = sqlite3.connect(server.folder / "db.sqlite3")
    con.row_factory = sqlite3.Row
    try:
        return {r["code"]: dict(r) for r in con.execute(
            "SELECT q.code, p.* FROM collab_experiment_player p JOIN otree_participant q ON p.participant_id = q.id")}
    finally:
        con.close()


def postgres_rows(url) -> dict:
    con = psycopg2.connect(url)
    try:
        cur = con.cursor(cursor_factory=psycopg2.extras.RealDictCursor)
        cur.execute("SELECT q.code, p.* FROM collab_experiment_player p JOIN otree_participant q "
                    "ON p.participant_id = q.id")
        return {r["code"]: dict(r) for r in cur.fetchall()}
    finally:
        con.close()


def assert_everything_acknowledged_is_stored(rows, students):
    for s in students:
        for field, value in s.acknowledged.items():
            assert str(rows[s.code][field]) == str(value), (s.code, field)


def walk_partway(students, rng):
    for s in students:
        s.open()
        for _ in range(rng.randint(1, 8)):
            s.submit_until_acknowledged(time.time() + 60)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_server_killed_and_restarted_mid_class_loses_nothing(project, request, database):
    env = {}
    if database == "postgresql":
        env = dict(PRODUCTION_ENV, DATABASE_URL=request.getfixturevalue("postgres_url"))
    server = Server(project, env=env).start()
    try:
        session = server.create_session("classroom", 25, language="nb")
        rng = random.Random(7)
        students = [PatientStudent(session["session_wide_url"], programme=PROGRAMMES[i % 5], seed=i) for i in range(20)]
        walk_partway(students, rng)
        pages_before = {s.code: s.url for s in students}

        server.kill()
        server.start()

        for s in students:  # reopening the link brings back the page they were on
            s.response = s.http.get(pages_before[s.code], timeout=30)
            assert s.url == pages_before[s.code]
        for s in students:
            s.finish(time.time() + 120)
        rows = sqlite_rows(server) if database == "sqlite" else postgres_rows(env["DATABASE_URL"])
        assert_everything_acknowledged_is_stored(rows, students)
        assert sum(1 for r in rows.values() if r["completed"]) == 20
    finally:
        server.stop()


def test_postgresql_restarted_mid_class_never_drops_an_answer_silently(project, postgres_server, postgres_url):
    # Only the tests' own throw-away server is restarted, never one named by TEST_POSTGRES_URL.
    require(postgres_server is not None, "TEST_POSTGRES_URL names an outside server, which this test may not restart")
    server = Server(project, env=dict(PRODUCTION_ENV, DATABASE_URL=postgres_url)).start()
    try:
        session = server.create_session("classroom", 25, language="en")
        students = [PatientStudent(session["session_wide_url"], programme=PROGRAMMES[i % 5], seed=i) for i in range(20)]
        for s in students:
            s.open()
        halfway = threading.Event()
        waiting = []  # students who answered four pages and wait for the restart

        def take_part(s):
            for step in range(30):
                if s.page == "Finished":
                    return True
                if step == 4:
                    waiting.append(s)
                    halfway.wait(timeout=300)
                    time.sleep(random.random())  # spread the first requests after the restart
                s.submit_until_acknowledged(time.time() + 180)
            return False

        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
            futures = [pool.submit(take_part, s) for s in students]
            # the server's pooled connections are all in use before PostgreSQL goes away
            wait_until(lambda: len(waiting) + sum(f.done() for f in futures) == len(students),
                       timeout=240, what="every student answering four pages")
            postgres_server.restart()
            halfway.set()
            finished = [f.result() for f in futures]
        assert all(finished)
        rows = postgres_rows(postgres_url)
        assert_everything_acknowledged_is_stored(rows, students)
        assert sum(1 for r in rows.values() if r["completed"]) == 20
    finally:
        server.stop()


def test_exports_while_students_submit_lose_nothing(project, postgres_url):
    server = Server(project, env=dict(PRODUCTION_ENV, DATABASE_URL=postgres_url)).start()
    try:
        session = server.create_session("classroom", 30, language="en")
        students = [PatientStudent(session["session_wide_url"], programme=PROGRAMMES[i % 5], seed=i) for i in range(24)]
        admin = admin_login(server)
        stop = threading.Event()
        exports = []

        def keep_exporting():
            key = {"otree-rest-key": server.env["OTREE_REST_KEY"]}
            while not stop.is_set():
                for path in ("/api/export_app_custom?app=collab_experiment", "/api/export_wide"):
                    r = requests.get(server.url + path, headers=key, timeout=60)
                    exports.append(r.status_code)
                admin.get(f"{server.url}/ClassCounts/{session['code']}", timeout=60)

        def take_part(s):
            s.open()
            s.finish(time.time() + 300)

        exporter = threading.Thread(target=keep_exporting)
        exporter.start()
        try:
            with concurrent.futures.ThreadPoolExecutor(max_workers=24) as pool:
                list(pool.map(take_part, students))
        finally:
            stop.set()
            exporter.join()
        assert len(exports) >= 10 and set(exports) == {200}
        rows = postgres_rows(postgres_url)
        assert_everything_acknowledged_is_stored(rows, students)
        assert sum(1 for r in rows.values() if r["completed"]) == 24
    finally:
        server.stop()
