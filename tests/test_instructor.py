"""Instructors run a class on the production setup: PostgreSQL, STUDY auth, rooms, live counts."""

import collections
import concurrent.futures
import csv
import html
import io
import os
import pathlib
import re
import subprocess
import sys

import psycopg2
import psycopg2.extras
import pytest
import requests

from collab_experiment import assignment, dashboard, texts
from conftest import PRODUCTION_ENV, Server, admin_login
from student import Student

PROGRAMMES = assignment.PROGRAMMES


def query(url, sql, args=()):
    con = psycopg2.connect(url)
    try:
        cur = con.cursor(cursor_factory=psycopg2.extras.RealDictCursor)
        cur.execute(sql, args)
        return [dict(r) for r in cur.fetchall()]
    finally:
        con.close()


def create_in_room(server, room, n, **config):
    body = dict(session_config_name="classroom", num_participants=n, room_name=room)
    if config:
        body["modified_session_config_fields"] = config
    r = requests.post(server.url + "/api/sessions", json=body,
                      headers={"otree-rest-key": server.env.get("OTREE_REST_KEY", "")}, timeout=60)
    r.raise_for_status()
    return r.json()


def rest_export(server, session_code):
    r = requests.get(server.url + "/api/export_app_custom",
                     params=dict(app="collab_experiment", session_code=session_code),
                     headers={"otree-rest-key": server.env["OTREE_REST_KEY"]}, timeout=60)
    r.raise_for_status()
    return list(csv.DictReader(io.StringIO(r.text)))


def table_rows(page: str, table_id: str) -> list[list[str]]:
    """The data rows of the table with this id in an HTML page, as lists of cell texts."""
    table = re.search(rf'<table[^>]*id="{table_id}"[^>]*>(.*?)</table>', page, re.S)
    assert table, f"no table {table_id!r} in the page"
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
    return [[html.unescape(c.strip()) for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in rows if "<td>" in row]


def test_a_class_of_a_hundred_through_a_room_on_postgresql(production_server):
    srv = production_server
    n = 100
    session = create_in_room(srv, "oslo", n + 5, language="nb")
    room_url = srv.url + "/room/oslo?welcome_page_ok=1"

    def take_part(i):
        s = Student(room_url, programme=PROGRAMMES[i % 5], seed=i).open()
        s.walk()
        return s.page

    with concurrent.futures.ThreadPoolExecutor(max_workers=25) as pool:
        pages = list(pool.map(take_part, range(n)))
    assert pages == ["Finished"] * n

    rows = rest_export(srv, session["code"])
    done = [r for r in rows if r["completed"] == "1"]
    assert len(done) == n
    counts = collections.defaultdict(collections.Counter)
    for r in done:
        counts[r["stratum"]][(r["manager"], r["partner"])] += 1
    assert all(assignment.max_imbalance(c) <= 1 for c in counts.values())
    assert {r["language"] for r in done} == {"nb"}

    admin = admin_login(srv)
    live = admin.get(f"{srv.url}/ClassCounts/{session['code']}", timeout=30).json()
    assert live["progress"] == {"joined": n, "not_started": 0, "in_progress": 0, "left": 0, "finished": n,
                                "declined": 0}
    assert {b["programme"]: b["largest_difference"] for b in live["balance"]} == {p: 0 for p in PROGRAMMES}
    # 20 per programme: every cell has 5, shown exactly
    assert all(c["assigned"] == 5 for c in live["cells"])


def test_two_rooms_at_once_stay_apart(production_server):
    srv = production_server
    oslo = create_in_room(srv, "oslo", 12, language="nb")
    aarhus = create_in_room(srv, "aarhus", 12, language="da")
    students = [Student(srv.url + "/room/" + room + "?welcome_page_ok=1", programme="nursing", seed=i)
                for i, room in enumerate(["oslo", "aarhus"] * 5)]
    for s in students:
        s.open()
    assert all(texts.load("nb")["consent"]["agree"] in s.response.text for s in students[0::2])
    assert all(texts.load("da")["consent"]["agree"] in s.response.text for s in students[1::2])
    for s in students:
        s.walk()
    a, b = rest_export(srv, oslo["code"]), rest_export(srv, aarhus["code"])
    assert sum(r["completed"] == "1" for r in a) == 5 and sum(r["completed"] == "1" for r in b) == 5
    assert {r["language"] for r in a if r["completed"] == "1"} == {"nb"}
    assert {r["language"] for r in b if r["completed"] == "1"} == {"da"}
    # each room's nursing stratum runs its own blocks: five arrivals = one block and one more
    for rows in (a, b):
        assert sorted(int(r["block_position"]) for r in rows if r["assigned"] == "1") == [1, 1, 2, 3, 4]


def test_the_room_welcome_page_is_ours_and_needs_no_javascript(production_server):
    srv = production_server
    create_in_room(srv, "aarhus", 2)
    welcome = requests.get(srv.url + "/room/aarhus", timeout=30)
    assert welcome.status_code == 200 and 'href="?welcome_page_ok=1"' in welcome.text
    assert "bootstrap" not in welcome.text and "<script" not in welcome.text
    s = Student(srv.url + "/room/aarhus?welcome_page_ok=1").open()
    assert s.page == "Consent"


def test_a_full_session_shows_a_friendly_page(production_server):
    srv = production_server
    create_in_room(srv, "class", 2, language="en")
    for i in range(2):
        Student(srv.url + "/room/class?welcome_page_ok=1", seed=i).open()
    r = requests.get(srv.url + "/room/class?welcome_page_ok=1", timeout=30)
    assert r.status_code == 404
    for language in texts.LANGUAGES:
        assert texts.load(language)["full"]["body"] in r.text
    assert "Traceback" not in r.text


@pytest.mark.parametrize("path", ["/sessions", "/Projector/{code}", "/ClassCounts/{code}",
                                  "/AdminReport/{code}", "/SessionData/{code}"])
def test_admin_pages_ask_for_the_login(production_server, path):
    srv = production_server
    session = create_in_room(srv, "oslo", 3)
    url = srv.url + path.format(code=session["code"])
    anonymous = requests.get(url, allow_redirects=False, timeout=30)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["location"]
    assert admin_login(srv).get(url, timeout=30).status_code == 200


def test_rest_api_needs_the_key(production_server):
    srv = production_server
    url = srv.url + "/api/export_app_custom?app=collab_experiment"
    assert requests.get(url, timeout=30).status_code == 403
    assert requests.get(url, headers={"otree-rest-key": "wrong"}, timeout=30).status_code == 403
    create = requests.post(srv.url + "/api/sessions", json=dict(session_config_name="classroom", num_participants=2),
                           timeout=30)
    assert create.status_code == 403
    ok = requests.get(url, headers={"otree-rest-key": srv.env["OTREE_REST_KEY"]}, timeout=30)
    assert ok.status_code == 200 and ok.text.startswith("participant_code,")


def test_projector_and_dashboard_show_masked_counts_and_nothing_personal(production_server):
    srv = production_server
    session = create_in_room(srv, "oslo", 10, language="en")
    finished = []
    for i in range(3):
        s = Student(srv.url + "/room/oslo?welcome_page_ok=1", programme="teacher", seed=i).open()
        s.walk()
        finished.append(s)
    Student(srv.url + "/room/oslo?welcome_page_ok=1", seed=99).open()  # joined, not yet consented
    admin = admin_login(srv)
    projector = admin.get(f"{srv.url}/Projector/{session['code']}", timeout=30)
    assert projector.status_code == 200
    assert "<svg" in projector.text and "/<wbr>room/<wbr>oslo" in projector.text
    live = admin.get(f"{srv.url}/ClassCounts/{session['code']}", timeout=30).json()
    # a class of four: the totals are exact (they reveal no answer), the cells stay masked
    assert live["progress"] == {"joined": 4, "not_started": 1, "in_progress": 0, "left": 0, "finished": 3,
                                "declined": 0}
    assert all(c["assigned"] == dashboard.MASK for c in live["cells"])
    en = texts.load("en")["projector"]
    for key in ("joined", "not_started", "in_progress", "left", "finished", "declined"):
        assert f'id="{key}">{live["progress"][key]}</b>' in projector.text and en[key] in projector.text
    report = admin.get(f"{srv.url}/AdminReport/{session['code']}", timeout=30).text
    assert '<td data-k="progress.finished">3</td>' in report
    assert "answering now (a page opened in the last 10 min)" in report
    assert "stopped answering (no page opened for 10 min)" in report
    # three students in four cells: every count the report draws in a cell is masked or 0
    cells = table_rows(report, "cells")
    teacher = [row for row in cells if row[0] == "teacher"]
    assert teacher, cells
    counts = [value for row in cells for value in row[3:]]
    assert set(counts) <= {"0", dashboard.MASK}, cells
    assert [row[3] for row in teacher].count(dashboard.MASK) == 3, teacher  # each assigned student's cell
    for s in finished:
        for page in (projector.text, report, str(live)):
            assert s.code not in page
            code = query(srv.database_url, "SELECT withdrawal_code FROM collab_experiment_player p JOIN otree_participant q "
                                           "ON p.participant_id = q.id WHERE q.code = %s", (s.code,))[0]["withdrawal_code"]
            assert code not in page


def test_a_forced_advance_stores_no_answer(production_server):
    srv = production_server
    session = create_in_room(srv, "oslo", 3, language="en")
    s = Student(srv.url + "/room/oslo?welcome_page_ok=1", seed=1).open()
    s.walk(until="Motivation")
    admin = admin_login(srv)
    r = admin.post(f"{srv.url}/AdvanceSession/{session['code']}",
                   data=dict(csrftoken=admin.csrftoken, advancemode="visited_only"), timeout=30)
    assert r.status_code == 200
    s.open()  # the page the student is on now
    assert s.page == "Programme"
    [row] = query(srv.database_url,
                  "SELECT p.* FROM collab_experiment_player p JOIN otree_participant q ON p.participant_id = q.id "
                  "WHERE q.code = %s", (s.code,))
    assert row["psm_1"] is None and row["attention"] is None and row["attention_pass"] is None
    assert row["timed_out_pages"] == "Motivation"
    assert row["year_of_study"] is not None  # the page answered before stays answered


def test_production_refuses_to_start_without_its_secrets(project):
    env = {**os.environ, "PATH": str(pathlib.Path(sys.executable).parent) + os.pathsep + os.environ["PATH"],
           **PRODUCTION_ENV}
    env.pop("OTREE_REST_KEY")
    env["OTREE_SECRET_KEY"] = "dev-only-not-secret"
    result = subprocess.run(["otree", "prodserver", "127.0.0.1:0"], cwd=project, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    message = result.stderr + result.stdout
    assert "OTREE_REST_KEY is not set" in message and "OTREE_SECRET_KEY must be" in message
    assert "DATABASE_URL is not set" in message and "Traceback" not in message


def test_preflight_finds_a_changed_model_before_the_class(production_server, project):
    srv = production_server
    env = {**os.environ, "DATABASE_URL": srv.database_url}
    ok = subprocess.run([sys.executable, "-m", "collab_experiment.manage", "preflight"], cwd=project, env=env,
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    con = psycopg2.connect(srv.database_url)
    con.autocommit = True
    con.cursor().execute("ALTER TABLE collab_experiment_player DROP COLUMN psm_3")
    con.close()
    bad = subprocess.run([sys.executable, "-m", "collab_experiment.manage", "preflight"], cwd=project, env=env,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1
    assert "collab_experiment_player lacks columns psm_3" in bad.stderr and "manage reset" in bad.stderr


def test_backup_of_postgresql_restores_the_rows(production_server, project, tmp_path):
    srv = production_server
    create_in_room(srv, "oslo", 2)
    env = {**os.environ, "DATABASE_URL": srv.database_url}
    out = subprocess.run([sys.executable, "-m", "collab_experiment.manage", "backup", "--dir", str(tmp_path)],
                         cwd=project, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    [dump] = list(tmp_path.glob("db-*.dump"))
    listing = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True, text=True, check=True).stdout
    assert "collab_experiment_player" in listing and "otree_session" in listing


def test_no_client_address_in_the_access_log(production_server):
    srv = production_server
    create_in_room(srv, "oslo", 2)
    Student(srv.url + "/room/oslo?welcome_page_ok=1").open()
    log = srv.log()
    assert "GET /room/oslo" in log
    assert "127.0.0.1:" not in log.replace(srv.url, "")


def test_a_password_alone_closes_the_admin_on_sqlite(project):
    srv = Server(project, env=dict(OTREE_ADMIN_PASSWORD="laptop-class")).start()
    try:
        r = requests.get(srv.url + "/sessions", allow_redirects=False, timeout=30)
        assert r.status_code == 302 and "/login" in r.headers["location"]
        assert "password:" not in srv.log() and not (project / ".admin-password").exists()  # an explicit one wins
        assert requests.post(srv.url + "/api/sessions", json=dict(session_config_name="classroom",
                             num_participants=2), timeout=30).status_code == 403
    finally:
        srv.stop()


def test_looking_writes_nothing_a_live_count_a_report_or_an_export(production_server):
    """oTree's `participant.vars` marks the participant row changed on every read. Read
    that way, each refresh of the live counts, the report or an export would rewrite the
    row of every participant of the session, in the middle of a class. Looking must leave
    the rows as they are (PostgreSQL gives every new row version a new `xmin`).
    (A student's own page view does write: oTree stamps `_last_request_timestamp`.)"""
    srv = production_server
    session = create_in_room(srv, "oslo", 6, language="en")
    students = [Student(srv.url + "/room/oslo?welcome_page_ok=1", programme="nursing", seed=i).open()
                for i in range(3)]
    for s in students:
        s.walk(until="Vignette")
    students[0].walk()  # one finished
    admin = admin_login(srv)
    def versions():
        return {r["code"]: r["v"] for r in query(srv.database_url, "SELECT code, xmin::text AS v FROM otree_participant")}

    before = versions()
    assert admin.get(f"{srv.url}/ClassCounts/{session['code']}", timeout=30).status_code == 200
    assert admin.get(f"{srv.url}/AdminReport/{session['code']}", timeout=30).status_code == 200
    assert len(rest_export(srv, session["code"])) == 3
    assert versions() == before
    students[1].answer_page()  # answering still writes
    assert versions()[students[1].code] != before[students[1].code]


# ------------------------------------------------------------ the link students open

def test_the_students_link_is_one_their_phones_can_open():
    from collab_experiment.instructor import link_is_loopback, public_link

    room = "http://localhost:8000/room/oslo?welcome_page_ok=1"
    lan = lambda: "192.168.1.20"  # noqa: E731
    # opened on the laptop itself: the machine's network address, with the server's port
    assert public_link(room, env={}, address=("0.0.0.0", 8000), lan_lookup=lan) == \
        "http://192.168.1.20:8000/room/oslo?welcome_page_ok=1"
    assert public_link(room.replace("localhost", "127.0.0.1"), env={}, address=("0.0.0.0", 8000),
                       lan_lookup=lan) == "http://192.168.1.20:8000/room/oslo?welcome_page_ok=1"
    # OTREE_PUBLIC_URL wins (a reverse proxy's address, with a path prefix)
    assert public_link(room, env={"OTREE_PUBLIC_URL": "https://survey.example.org/class/"},
                       address=("127.0.0.1", 8000), lan_lookup=lan) == \
        "https://survey.example.org/class/room/oslo?welcome_page_ok=1"
    # opened through an address others reach: kept
    assert public_link("http://10.0.0.5:8000/room/oslo", env={}, address=("0.0.0.0", 8000), lan_lookup=lan) == \
        "http://10.0.0.5:8000/room/oslo"
    # a server listening only on this computer, or no network: stays loopback, and says so
    for address, lookup in ((("127.0.0.1", 8000), lan), (("0.0.0.0", 8000), lambda: None)):
        link = public_link(room, env={}, address=address, lan_lookup=lookup)
        assert link == room and link_is_loopback(link)
    assert not link_is_loopback("http://192.168.1.20:8000/room/oslo")


def test_the_projector_link_breaks_only_after_a_slash():
    from collab_experiment.instructor import PROJECTOR_HTML, link_html

    shown = link_html("https://survey.example.org/room/aarhus?welcome_page_ok=1")
    assert shown == "survey.example.org/<wbr>room/<wbr>aarhus"
    assert link_html("http://h/x?a=<b>") == "h/<wbr>x"
    assert link_html("http://h/<b>") == "h/<wbr>&lt;b&gt;"
    css = PROJECTOR_HTML.split("</style>")[0]
    assert "break-all" not in css and "anywhere" not in css and "break-word" not in css


def test_the_loopback_warning_says_what_to_do_in_the_page_language():
    for language in texts.LANGUAGES:
        warning = texts.load(language)["projector"]["loopback_warning"]
        assert "README" not in warning and "Running a class" not in warning
        assert "OTREE_PUBLIC_URL" in warning and "otree prodserver 8000" in warning


def test_lan_address_is_none_or_a_network_address():
    from analysis import deployment

    address = deployment.lan_address()
    assert address is None or not deployment.is_loopback(address)
    assert deployment.is_loopback("localhost") and deployment.is_loopback("127.0.1.1") and deployment.is_loopback("::1")
    assert not deployment.is_loopback("survey.example.org") and not deployment.is_loopback("10.0.0.5")


def test_with_otree_public_url_the_projector_shows_that_link_and_no_warning(project):
    from collab_experiment.instructor import qr_svg

    srv = Server(project, env=dict(OTREE_PUBLIC_URL="https://survey.example.org")).start()
    try:
        session = srv.create_session("classroom", 4, language="nb")
        code = create_in_room(srv, "oslo", 4)["code"]
        link = "https://survey.example.org/room/oslo?welcome_page_ok=1"
        projector = requests.get(f"{srv.url}/Projector/{code}", timeout=30).text
        assert qr_svg(link) in projector and "survey.example.org/<wbr>room/<wbr>oslo" in projector
        assert texts.load("nb")["projector"]["loopback_warning"] not in projector
        live = requests.get(f"{srv.url}/ClassCounts/{code}", timeout=30).json()
        assert live["link"] == {"url": link, "loopback": False}
        report = requests.get(f"{srv.url}/AdminReport/{code}", timeout=30).text
        assert 'id="link-warning" hidden>' in report
        # a session outside rooms: its own join link, through the public address too
        other = requests.get(f"{srv.url}/ClassCounts/{session['code']}", timeout=30).json()["link"]["url"]
        assert other.startswith("https://survey.example.org/join/")
    finally:
        srv.stop()


def test_a_loopback_link_shows_the_warning_on_the_projector_and_the_report_tab(project):
    srv = Server(project).start()  # listens on 127.0.0.1 only: phones cannot reach it
    try:
        code = create_in_room(srv, "oslo", 4, language="da")["code"]
        projector = requests.get(f"{srv.url}/Projector/{code}", timeout=30).text
        assert texts.load("da")["projector"]["loopback_warning"] in projector and 'role="alert"' in projector
        live = requests.get(f"{srv.url}/ClassCounts/{code}", timeout=30).json()
        assert live["link"]["loopback"] is True and live["link"]["url"].startswith("http://127.0.0.1:")
        report = requests.get(f"{srv.url}/AdminReport/{code}", timeout=30).text
        assert 'id="link-warning">' + texts.load("en")["projector"]["loopback_warning"] in report
        # the same alert colours on both: Bootstrap's danger alert (dark red on light red)
        assert 'class="alert alert-danger" role="alert" id="link-warning"' in report
        assert "background:#f8d7da;color:#58151c" in projector
        # the native-speaker warning is a Bootstrap alert (dark text on light yellow), not pale yellow text
        assert 'class="alert alert-warning" role="status" id="unreviewed"' in report and "text-warning" not in report
    finally:
        srv.stop()


# ------------------------------------------------------------ the generated admin password

def test_without_a_password_prodserver_makes_one_prints_it_and_uses_it(project):
    import re

    srv = Server(project)
    srv.env.pop("OTREE_ADMIN_PASSWORD")
    srv.env.pop("OTREE_AUTH_LEVEL", None)
    srv.start()
    try:
        log = srv.log()
        match = re.search(r"^\s+password: (\S+)$", log, re.MULTILINE)
        assert match, log
        password = match.group(1)
        first = log.splitlines()[:8]
        assert any(line.strip() == "username: admin" for line in first)
        assert any(f"http://localhost:{srv.port}/" in line for line in first)
        assert log.index("password:") < log.index("Running prodserver")
        # closed without it: the admin asks for the login, the REST API refuses
        r = requests.get(srv.url + "/sessions", allow_redirects=False, timeout=30)
        assert r.status_code == 302 and "/login" in r.headers["location"]
        assert requests.post(srv.url + "/api/sessions", json=dict(session_config_name="classroom",
                             num_participants=2), timeout=30).status_code == 403
        # the printed password opens it
        srv.env["OTREE_ADMIN_PASSWORD"] = password
        assert admin_login(srv).get(srv.url + "/sessions", allow_redirects=False, timeout=30).status_code == 200
        # kept in a git-ignored file, only for its owner
        kept = project / ".admin-password"
        assert kept.read_text().strip() == password and kept.stat().st_mode & 0o077 == 0
        assert ".admin-password" in (pathlib.Path(__file__).resolve().parent.parent / ".gitignore").read_text()
        # the timeout worker that prodserver starts has the same password
        workers = [pid for pid in os.listdir("/proc") if pid.isdigit() and os.getpgid(int(pid)) == srv.proc.pid
                   and b"timeoutsubprocess" in pathlib.Path(f"/proc/{pid}/cmdline").read_bytes()]
        assert workers
        for pid in workers:
            environ = pathlib.Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            assert f"OTREE_ADMIN_PASSWORD={password}".encode() in environ
    finally:
        srv.stop()
    # a restart keeps it (oTree signs the students' cookies with it)
    again = Server(project)
    again.env.pop("OTREE_ADMIN_PASSWORD")
    again.log_path = project / "server-2.log"
    again.start()
    try:
        assert f"password: {password}" in again.log()
    finally:
        again.stop()


def test_an_empty_password_leaves_the_admin_open(project):
    srv = Server(project, env=dict(OTREE_ADMIN_PASSWORD="")).start()
    try:
        assert requests.get(srv.url + "/sessions", allow_redirects=False, timeout=30).status_code == 200
        assert "password:" not in srv.log()
    finally:
        srv.stop()


# ------------------------------------------------------------ the demo configuration

def test_the_demo_configuration_is_refused_in_a_room_and_allowed_outside(project):
    import otree.session
    import otree.views.rest

    import collab_experiment  # noqa: F401  (installs the refusal, as the server does)
    from collab_experiment import otree_glue

    # both ways of creating a session go through the refusal: the admin page and the REST API
    assert otree.session.create_session is otree.views.rest.create_session
    assert otree.session.create_session is not otree_glue._original_create_session  # the glue's wrapper
    srv = Server(project).start()
    try:
        refused = requests.post(srv.url + "/api/sessions", json=dict(session_config_name="demo", num_participants=2,
                                                                     room_name="class"), timeout=60)
        assert refused.status_code == 400
        assert texts.load("en")["instructor"]["demo_in_room"] in refused.text and "Traceback" not in refused.text
        assert srv.create_session("demo", 2)["code"]  # outside a room: fine
        in_room = requests.post(srv.url + "/api/sessions", json=dict(session_config_name="classroom",
                                                                     num_participants=2, room_name="class"), timeout=60)
        assert in_room.status_code == 200
    finally:
        srv.stop()
