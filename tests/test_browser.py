"""The student's pages in a real browser: Debian's Chromium on a small touch screen.

Every page is screenshotted (test-artifacts/screenshots/) and checked with axe-core for
WCAG 2.2 A and AA (`browser.check_page`), for overflow at 320 px, at 200 % text and at
200 % zoom, for "step x of y" and for console errors. The network is cut in the middle of
a scale, a response is lost after the server stored the answers, a request hangs, the
page is reloaded, the link reopened, the server restarted: every answer is stored exactly
once and nothing is lost.
"""

from __future__ import annotations

import time

import pytest

from analysis import contract
from browser import (
    Tapper, Weigher, check_page, chromium_path, launch, page_name, participant_code, phone,
    player_of, rows, screenshot, wait_ready,
)
from collab_experiment import texts
from conftest import Server, copy_project, require
from student import Student

pytestmark = pytest.mark.slow

# The scale pages are positions (Scale1, Scale2, ...); which scale each shows is the
# student's random `scale_order`, so these tests walk whatever order they are given.
SCALE_PAGES = [f"Scale{i}" for i in range(1, len(contract.RATED_SCALES) + 1)]
PATH = [
    "Consent", "AboutYou", "Motivation", "Programme", "Vignette", *SCALE_PAGES,
    "Checks", "LastQuestions", "Debrief", "Finished",
]
# Expected while the network is down, and nowhere else.
NETWORK_NOISE = (
    "ERR_INTERNET_DISCONNECTED", "ERR_FAILED", "ERR_CONNECTION_RESET", "ERR_CONNECTION_REFUSED",
    "WebSocket connection",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require(chromium_path() is not None, "Debian chromium is not installed (apt-get install chromium)")
    srv = Server(copy_project(tmp_path_factory.mktemp("browser") / "project")).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    b = launch(pw)
    yield b
    b.close()
    pw.stop()


# Every WebSocket a page opens, in `window.sockets`, so that a test can wait until the page
# has noticed a dropped connection or reconnected (test instrumentation only).
WATCH_SOCKETS_JS = """
(() => {
  const Native = window.WebSocket;
  if (!Native) return;
  window.sockets = [];
  window.WebSocket = function (url, protocols) {
    const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
    window.sockets.push(ws);
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
})();
"""


class Visit:
    """One student's browser: its page, console errors and the POSTs it sent."""

    def __init__(self, browser, server, language="en", *, size=(390, 844), session_language=None,
                 seed=0, programme="nursing", **context):
        self.server = server
        self.db = server.folder / "db.sqlite3"
        self.session = server.create_session("classroom", 2, language=session_language or language)
        self.language = language
        self.context = phone(browser, *size, **context)
        self.context.add_init_script(WATCH_SOCKETS_JS)
        self.errors: list[str] = []
        self.posts: list[tuple[str, str]] = []  # (path, outcome)
        self.titles: dict[str, str] = {}  # page name -> its h1, as seen
        self.page = self.open_page()
        self.tapper = Tapper(self.page, programme=programme, seed=seed,
                             script=context.get("java_script_enabled", True))

    def open_page(self):
        page = self.context.new_page()
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("requestfinished", lambda r: r.method == "POST" and self.posts.append((path_of(r.url), "ok")))
        page.on("requestfailed", lambda r: r.method == "POST" and self.posts.append((path_of(r.url), "failed")))
        return page

    def start(self) -> str:
        self.page.goto(self.session["session_wide_url"])
        return self.tapper.ready()

    @property
    def path(self) -> str:
        return self.page.evaluate("() => location.pathname")

    @property
    def code(self) -> str:
        return participant_code(self.page.url)

    def walk(self, label: str, until: str = "Finished", check: bool = True) -> list[str]:
        """Answer page after page by tapping; screenshot and check each page on the way."""
        seen = []
        name = page_name(self.page.url)
        while True:
            seen.append(name)
            self.titles[name] = self.page.locator("h1").inner_text()
            screenshot(self.page, f"{label}-{len(seen):02d}-{name}")
            if check:
                problems = check_page(self.page, self.language) + orientation_problems(self.page, self.language, name)
                assert not problems, (name, problems)
            if name in (until, "Finished"):
                return seen
            name = self.tapper.answer_page()

    def stored(self) -> dict:
        return player_of(self.db, "collab_experiment_player", self.code)

    def assert_answers_stored(self) -> None:
        row = self.stored()
        wrong = {k: (v, row[k]) for k, v in self.tapper.answers.items() if str(row[k]) != str(v)}
        assert not wrong, wrong

    def scale_order(self) -> list[str]:
        return self.stored()["scale_order"].split(",")

    def items_on_page(self) -> int:
        return self.page.locator("fieldset.item").count()

    def posts_to(self, name: str, outcome: str = "ok") -> int:
        return sum(1 for p, o in self.posts if page_name(p) == name and o == outcome)

    def status(self) -> str:
        return self.page.locator("#net-status").inner_text().strip()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser, server):
    """Opens a student's browser for the test (`Visit`) and closes it afterwards, pass or fail.

    Call it as `visit(language, on=other_server, **options)`; `on` defaults to the module's server.
    """
    opened = []

    def open_visit(language="en", *, on=None, **options):
        v = Visit(browser, on or server, language, **options)
        opened.append(v)
        return v

    yield open_visit
    for v in opened:
        v.close()


def poll(visit, condition, timeout: float = 30, what: str = "the condition") -> None:
    """Wait until `condition()` holds, letting the browser's events in meanwhile (every 0.1 s);
    fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        visit.page.wait_for_timeout(100)


def orientation_problems(page, language: str, name: str) -> list[str]:
    """Step x of y on every page but the end; a 7-point scale as a vertical list, all labels written."""
    t = texts.load(language)
    problems = []
    if name != "Finished":
        step = t["ui"]["step"].format(step=PATH.index(name) + 1, total=len(PATH))
        if page.locator(".progress").inner_text() != step:
            problems.append(f"progress shows {page.locator('.progress').inner_text()!r}, not {step!r}")
    scale = page.locator(".options.likert:visible")
    if scale.count():
        labels = [scale.first.locator("label").nth(i).inner_text() for i in range(7)]
        if labels != list(t["scales"]["agree7"].values()):
            problems.append(f"scale labels {labels}")
        boxes = [scale.first.locator("label").nth(i).bounding_box() for i in range(7)]
        if any(b["y"] < a["y"] + a["height"] for a, b in zip(boxes, boxes[1:])):
            problems.append("scale options are not stacked vertically")
    return problems


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[-1].split("/", 1)[-1].split("?")[0]


def scale_item(visit, i):
    item = visit.page.locator("fieldset.item").nth(i)
    item.wait_for(state="visible")
    return item


def to_page(visit, name: str) -> None:
    current = page_name(visit.page.url)
    while current != name:
        current = visit.tapper.answer_page()


@pytest.mark.parametrize("language,size", [
    pytest.param(language, size, id=f"{language}-{size[0]}x{size[1]}")
    for language, size in [("en", (390, 844)), ("nb", (390, 844)), ("da", (390, 844)), ("nb", (360, 640))]
])
def test_whole_survey_by_tapping_in_each_language(visit, language, size):
    # Sessions start in Danish; the student picks the language on the first page.
    v = visit(language, size=size, session_language="da" if language != "da" else "en", seed=7)
    v.start()
    if language != page_lang(v):
        v.page.locator(f"button[name=switch_language][value={language}]").tap()
        v.page.wait_for_function("(l) => document.documentElement.lang === l", arg=language)
        wait_ready(v.page)
    assert v.page.locator("html").get_attribute("lang") == language
    assert v.page.locator("button[aria-current=true]").get_attribute("value") == language
    seen = v.walk(f"survey-{language}-{size[0]}x{size[1]}")
    assert seen == PATH
    assert not v.errors
    # each scale page showed the scale the student's recorded order puts there
    t = texts.load(language)
    order = v.scale_order()
    assert sorted(order) == sorted(contract.RATED_SCALES)
    assert [v.titles[name] for name in SCALE_PAGES] == [t["pages"][scale] for scale in order]
    # one request per page, each scale included (the stepper sends it whole)
    assert all(v.posts_to(name) == 1 for name in PATH[1:-1]), v.posts
    v.assert_answers_stored()
    row = v.stored()
    assert row["language"] == language and row["completed"] == 1
    assert player_of(v.db, "consent_player", v.code)["consented"] == 1
    t = texts.load(language)
    assert v.page.locator("h1").inner_text() == t["pages"]["finished"]


def page_lang(v) -> str:
    return v.page.locator("html").get_attribute("lang")


def test_declining_ends_on_the_neutral_page_and_stores_nothing(visit):
    v = visit("nb")
    v.start()
    v.page.locator("button[name=consented][value=False]").tap()
    assert v.tapper.leave("/p/" + v.code + "/consent/Consent/1") == "Finished"
    screenshot(v.page, "decline-nb-390x844-02-Finished")
    assert not check_page(v.page, "nb")
    assert "Steg" not in v.page.locator("main").inner_text()  # no counter that tells
    assert player_of(v.db, "consent_player", v.code)["consented"] == 0
    row = v.stored()
    assert row["programme"] is None and row["manager"] is None and row["psm_1"] is None
    assert not v.errors


def test_network_cut_in_the_middle_of_a_scale_loses_and_repeats_nothing(visit):
    v = visit("nb", seed=11)
    v.start()
    to_page(v, "Scale1")
    scale, n = v.scale_order()[0], v.items_on_page()
    v.tapper.choose(scale_item(v, 0))
    v.tapper.choose(scale_item(v, 1))
    path = v.path
    v.context.set_offline(True)
    for i in range(2, n):
        v.tapper.choose(scale_item(v, i))
    v.tapper.next()
    v.page.wait_for_function("() => document.getElementById('net-status').textContent !== ''")
    assert v.status() == texts.load("nb")["ui"]["offline"]
    screenshot(v.page, "offline-nb-390x844-Scale1")
    assert not check_page(v.page, "nb")  # the message too: contrast, no overflow
    saved = v.page.evaluate("(k) => JSON.parse(localStorage.getItem(k))", "survey:" + path)
    assert saved["pending"] and all(k in saved["answers"] for k in contract.SCALES[scale])
    v.tapper.next()  # impatient taps while offline
    v.tapper.next()
    # the first send and at least one retry fail while offline
    poll(v, lambda: v.posts_to("Scale1", "failed") >= 2, what="a retry while offline")
    assert v.path == path
    assert v.page.locator("input:checked").count() == n
    v.context.set_offline(False)  # the browser's "online" event sends at once
    assert v.tapper.leave(path) == "Scale2"
    assert v.status() == ""
    assert v.page.evaluate("(k) => localStorage.getItem(k)", "survey:" + path) is None
    assert v.walk("offline-nb-390x844", check=False)[-1] == "Finished"
    assert v.posts_to("Scale1", "ok") == 1  # only one request reached the server
    v.assert_answers_stored()
    assert not [e for e in v.errors if not any(n in e for n in NETWORK_NOISE)]


def test_a_lost_response_is_retried_and_never_assigns_twice(visit):
    v = visit("en", seed=3, programme="teacher")
    v.start()
    to_page(v, "Programme")
    path = v.path
    lost, back = [], []

    def lose_first_answer(route):
        if route.request.method != "POST" or back:
            route.continue_()
        elif not lost:
            route.fetch(max_redirects=0)  # the server stores and assigns ...
            lost.append(route.request.post_data)
            route.abort("connectionreset")  # ... but the phone never hears back
        else:
            route.abort("internetdisconnected")  # and stays cut off for a while

    v.page.route("**/Programme/*", lose_first_answer)
    v.tapper.answer_items()
    v.tapper.next()
    v.page.wait_for_function("() => document.getElementById('net-status').textContent !== ''")
    assigned = v.stored()
    assert assigned["programme"] == "teacher" and assigned["block_position"] == 1
    # the student changes their mind and, once back online, taps again: a retry never
    # stores a second time
    v.page.locator("label[for=id_programme_nursing]").tap()
    back.append(True)
    v.tapper.next()
    assert v.tapper.leave(path) == "Vignette"
    again = v.stored()
    assert {k: again[k] for k in ("programme", "manager", "partner", "block", "block_position", "assigned_at")} \
        == {k: assigned[k] for k in ("programme", "manager", "partner", "block", "block_position", "assigned_at")}
    # the next teacher student takes the next slot of the block: nothing was used twice
    s = Student(v.session["session_wide_url"], programme="teacher", seed=4).open()
    s.walk(until="Vignette")
    positions = sorted(r["block_position"] for r in rows(v.db, "collab_experiment_player")
                       if r["stratum"] == "teacher")
    assert positions == [1, 2]
    assert not [e for e in v.errors if not any(n in e for n in NETWORK_NOISE)]


def test_reload_and_reopening_the_link_bring_back_the_page_and_unsent_answers(visit):
    v = visit("da", seed=5)
    v.start()
    to_page(v, "Scale1")
    n = v.items_on_page()
    v.tapper.choose(scale_item(v, 0))
    v.tapper.choose(scale_item(v, 1))
    scale_item(v, 2)
    v.page.reload()
    wait_ready(v.page)
    item_of = texts.load("da")["ui"]["item_of"]
    assert v.page.locator(".item-count").inner_text() == item_of.format(item=3, total=n)
    assert v.page.locator("input:checked").count() == 2
    screenshot(v.page, "reload-da-390x844-Scale1-restored")
    assert v.tapper.answer_page() == "Scale2"

    # a send that fails, then a reload: the answers come back and are sent by themselves
    path = v.path
    v.page.route("**/Scale2/*", lambda r: r.abort("failed") if r.request.method == "POST" else r.continue_())
    v.tapper.answer_items()
    v.tapper.next()
    v.page.wait_for_function("() => document.getElementById('net-status').textContent !== ''")
    assert v.status() == texts.load("da")["ui"]["offline"]
    v.page.unroute("**/Scale2/*")
    v.page.reload()
    assert v.tapper.leave(path) == "Scale3"
    n3 = v.items_on_page()

    # reopening the link in the same browser: the current page, with its answers
    v.tapper.choose(scale_item(v, 0))
    v.page.close()
    v.page = v.tapper.page = v.open_page()
    v.page.goto(v.session["session_wide_url"])
    assert wait_ready(v.page) == "Scale3"
    assert v.page.locator("input:checked").count() == 1
    assert v.page.locator(".item-count").inner_text() == item_of.format(item=2, total=n3)
    assert v.walk("reload-da-390x844", check=False)[-1] == "Finished"
    v.assert_answers_stored()
    assert all(v.posts_to(name) == 1 for name in PATH[1:-1] if name != "Scale2")
    assert not [e for e in v.errors if not any(n in e for n in NETWORK_NOISE)]


def test_a_server_restart_mid_page_keeps_the_student_on_the_page_and_the_answers(visit, tmp_path):
    srv = Server(copy_project(tmp_path / "project")).start()
    v = visit("en", seed=9, on=srv)
    try:
        v.start()
        to_page(v, SCALE_PAGES[-1])
        path = v.path
        v.page.evaluate("() => { window.notReloaded = true }")
        opened = "(n) => window.sockets.slice(n).some((ws) => ws.readyState === WebSocket.OPEN)"
        # a restart while the student reads: the websocket drops, reconnects, nothing moves
        srv.stop()
        v.page.wait_for_function("() => window.sockets.every((ws) => ws.readyState === WebSocket.CLOSED)")
        before = v.page.evaluate("() => window.sockets.length")
        srv.start()
        v.page.wait_for_function(opened, arg=before, timeout=60_000)  # reconnected
        assert v.path == path and v.page.evaluate("() => window.notReloaded === true")
        # a restart while the answers are being sent
        srv.stop()
        v.tapper.answer_items()
        v.tapper.next()
        v.page.wait_for_function("() => document.getElementById('net-status').textContent !== ''")
        before = v.page.evaluate("() => window.sockets.length")
        srv.start()
        # the page websocket reconnects to the restarted server and leaves the student here,
        # unless the retry has already delivered the answers and the next page is showing
        v.page.wait_for_function(f"(n) => location.pathname !== {path!r} || ({opened})(n)",
                                 arg=before, timeout=60_000)
        # the retry (backoff) delivers the answers; nothing is stored twice
        assert v.tapper.leave(path) == "Checks"
        assert v.walk("restart-en-390x844", check=False)[-1] == "Finished"
        v.assert_answers_stored()
        assert v.posts_to(SCALE_PAGES[-1], "ok") == 1
    finally:
        srv.stop()


def test_without_javascript_every_item_is_on_one_page_and_the_survey_completes(visit):
    v = visit("en", seed=2, java_script_enabled=False)
    v.page.goto(v.session["session_wide_url"])
    seen = []
    while True:
        name = page_name(v.page.url)
        seen.append(name)
        screenshot(v.page, f"nojs-en-390x844-{len(seen):02d}-{name}")
        items = v.page.locator("fieldset.item")
        assert all(items.nth(i).is_visible() for i in range(items.count())), name
        if name == "Finished":
            break
        before = v.page.url
        if name == "AboutYou":  # sent unanswered first: the server's errors, all items shown
            v.tapper.next()
            v.page.wait_for_load_state("domcontentloaded")
            v.page.locator("#form-errors").wait_for()
            screenshot(v.page, "nojs-en-390x844-02-AboutYou-errors")
            problems = check_page(v.page, "en", scripts=False)
            assert not problems, problems
            assert v.page.locator("fieldset[aria-invalid=true]").count() == items.count() - 1  # gender optional
        if name == "Consent":
            v.page.locator("label[for=id_age_confirmed]").tap()
            v.page.locator("button[name=consented][value=True]").tap()
        else:
            for i in range(items.count()):
                v.tapper.choose(items.nth(i))
            v.tapper.next()
        v.page.wait_for_url(lambda url: url != before)
    assert seen == PATH
    v.assert_answers_stored()


def test_double_tap_sends_the_page_once(visit):
    v = visit("en", seed=4)
    v.start()
    to_page(v, "Vignette")
    path = v.path
    v.page.evaluate("() => { const b = document.querySelector('button.next'); b.click(); b.click(); b.click(); }")
    assert v.tapper.leave(path) == "Scale1"
    assert v.posts_to("Vignette") == 1
    assert not v.errors


def test_pages_stay_within_their_byte_budgets(visit, server):
    v = visit("nb")
    weigh = Weigher(v.context, v.page)
    v.start()
    first = weigh.bytes
    assert first <= 100_000, (first, weigh.requests)
    assert all(url.startswith(server.url) for _, url in weigh.requests)  # nothing from outside
    for _ in range(5):  # later pages, each answered and sent
        weigh.reset()
        v.tapper.answer_page()
        assert weigh.bytes <= 20_000, (page_name(v.page.url), weigh.bytes, weigh.requests)
    weigh.reset()
    v.page.reload()  # a later page opened afresh, with the browser's cache
    wait_ready(v.page)
    assert weigh.bytes <= 20_000, (weigh.bytes, weigh.requests)


def test_the_admins_advance_still_moves_a_waiting_student_on(visit, server):
    import re

    import requests

    v = visit("en", seed=6)
    v.start()
    to_page(v, "Motivation")
    v.tapper.choose(scale_item(v, 0))
    path = v.path
    admin = requests.Session()
    monitor = admin.get(f"{server.url}/SessionMonitor/{v.session['code']}", timeout=30).text
    token = re.search(r'name="csrftoken" value="([^"]+)"', monitor).group(1)
    r = admin.post(f"{server.url}/AdvanceSession/{v.session['code']}",
                   data=dict(csrftoken=token, advancemode="visited_only"), timeout=30)
    assert r.status_code == 200
    assert v.tapper.leave(path) == "Programme"  # told through the page websocket
    row = v.stored()
    assert row["psm_1"] is None and row["timed_out_pages"] == "Motivation"
    assert v.page.evaluate("(k) => localStorage.getItem(k)", "survey:" + path) is None
    assert not v.errors


def test_error_messages_are_announced_in_the_students_language(visit):
    v = visit("da")
    v.start()
    ui = texts.load("da")["ui"]
    v.page.locator("button[name=consented][value=True]").tap()  # without "I am 18 or older"
    v.page.locator("#err_age_confirmed").wait_for()
    assert v.page.locator("#err_age_confirmed").inner_text() == ui["error_age"]
    assert v.page.locator("#id_age_confirmed").get_attribute("aria-describedby") == "err_age_confirmed"
    screenshot(v.page, "errors-da-390x844-01-Consent")
    assert not check_page(v.page, "da")
    assert v.tapper.answer_page() == "AboutYou"
    v.tapper.next()  # nothing chosen
    error = v.page.locator("fieldset.item:visible .error")
    assert error.inner_text() == ui["error_choose"] and error.get_attribute("role") == "alert"
    assert v.page.locator("fieldset.item:visible").get_attribute("aria-invalid") == "true"
    screenshot(v.page, "errors-da-390x844-02-AboutYou")
    assert not check_page(v.page, "da")
    assert v.posts_to("AboutYou") == 0  # nothing was sent
    assert not v.errors


def test_the_room_link_opens_on_light_accessible_pages(visit, server):
    import requests

    r = requests.post(server.url + "/api/sessions", json=dict(
        session_config_name="classroom", num_participants=2, room_name="class",
        modified_session_config_fields=dict(language="nb")), timeout=60)
    r.raise_for_status()
    v = visit("nb")
    weigh = Weigher(v.context, v.page)
    v.page.goto(server.url + "/room/class")
    v.page.wait_for_load_state("load")
    screenshot(v.page, "room-nb-390x844-00-Welcome")
    assert not check_page(v.page, v.page.locator("html").get_attribute("lang"))
    welcome = weigh.bytes
    v.page.locator("#start").tap()
    assert wait_ready(v.page) == "Consent"
    assert weigh.bytes <= 100_000, (welcome, weigh.bytes, weigh.requests)  # welcome and consent together
    assert all(url.startswith(server.url) for _, url in weigh.requests)
    assert not check_page(v.page, "nb")
    assert not v.errors


def create_room_session(server, room: str, language: str = "nb") -> None:
    """The instructor creates the class's session in `room` (as the admin's room page does)."""
    import requests

    r = requests.post(server.url + "/api/sessions", json=dict(
        session_config_name="classroom", num_participants=2, room_name=room,
        modified_session_config_fields=dict(language=language)), timeout=60)
    r.raise_for_status()


def assert_waiting_page_in_every_language(page) -> None:
    for lang in contract.LANGUAGES:
        words = texts.load(lang)["waiting"]
        section = page.locator(f"main section[lang={lang}]")
        assert section.locator("h1").inner_text() == words["title"]
        assert section.locator("p").inner_text() == words["body"]


def test_a_room_link_opened_before_the_session_waits_and_moves_on_by_itself(visit, server):
    # Students scan the QR code before the instructor has created the session: they wait
    # on our page (not oTree's English one), whose websocket takes them to the consent
    # page once the session exists, with no reload by anyone.
    v = visit("nb")
    weigh = Weigher(v.context, v.page)
    v.page.goto(server.url + "/room/oslo?welcome_page_ok=1")  # the QR code's link
    v.page.wait_for_load_state("load")
    assert v.path == "/room/oslo"
    assert_waiting_page_in_every_language(v.page)
    assert "bootstrap" not in v.page.content() and "jquery" not in v.page.content().lower()
    poll(v, lambda: v.page.evaluate("() => window.sockets.some(s => s.readyState === 1)"), 15,
         "the waiting page's websocket opening")
    assert weigh.sockets == 1
    screenshot(v.page, "room-nb-390x844-00-Waiting")
    assert not check_page(v.page, "nb")
    loads = []
    v.page.on("load", lambda: loads.append(v.page.url))
    create_room_session(server, "oslo")
    v.page.wait_for_url("**/Consent/**", timeout=20_000)
    assert wait_ready(v.page) == "Consent"
    assert len(loads) == 1  # the page's own reload, redirected to the consent page
    assert not v.errors


def test_without_javascript_the_waiting_page_moves_on_by_itself_too(visit, server):
    v = visit("nb", java_script_enabled=False)
    v.page.goto(server.url + "/room/aarhus?welcome_page_ok=1")
    assert_waiting_page_in_every_language(v.page)
    create_room_session(server, "aarhus")
    v.page.wait_for_url("**/Consent/**", timeout=30_000)  # the page reloads itself every 20 s
    assert page_name(v.page.url) == "Consent"


def test_an_old_tab_past_the_last_page_says_so_in_every_language(visit, server):
    v = visit("en")
    v.start()
    v.page.goto(f"{server.url}/OutOfRangeNotification/{v.code}")
    for lang in contract.LANGUAGES:
        words = texts.load(lang)["no_more_pages"]
        section = v.page.locator(f"main section[lang={lang}]")
        assert section.locator("h1").inner_text() == words["title"]
        assert section.locator("p").inner_text() == words["body"]
    screenshot(v.page, "end-390x844-NoMorePages")
    assert not check_page(v.page, "nb")
    assert not v.errors


def test_a_request_that_hangs_times_out_and_is_sent_again(visit):
    v = visit("en", seed=8)
    v.context.add_init_script("window.SURVEY_TIMEOUT_MS = 1500")
    v.start()
    to_page(v, "Programme")
    path = v.path
    held = []

    def hang_first(route):
        if route.request.method == "POST" and not held:
            held.append(route)  # never answered: the server is stuck
        else:
            route.continue_()

    v.page.route("**/Programme/*", hang_first)
    v.tapper.answer_items()
    v.tapper.next()
    v.page.wait_for_function("() => document.getElementById('net-status').textContent !== ''")
    assert v.status() == texts.load("en")["ui"]["offline"]
    assert v.tapper.leave(path) == "Vignette"  # the retry gets through
    assert v.stored()["programme"] == "nursing" and v.stored()["block_position"] == 1
    assert v.posts_to("Programme", "ok") == 1


def test_a_scale_moves_on_by_itself_goes_back_and_sends_the_last_choice(visit):
    v = visit("en", seed=12)
    v.start()
    to_page(v, "Scale1")
    n = v.items_on_page()
    item_of = texts.load("en")["ui"]["item_of"]
    counter = v.page.locator(".item-count")
    first = scale_item(v, 0)
    first.locator("label").nth(1).tap()  # "Disagree"
    scale_item(v, 1)  # moved on by itself
    assert counter.inner_text() == item_of.format(item=2, total=n)
    assert not first.is_visible()
    v.page.locator("button.back-item").tap()
    first.wait_for(state="visible")
    assert counter.inner_text() == item_of.format(item=1, total=n)
    assert first.locator("input").nth(1).is_checked()
    first.locator("label").nth(5).tap()  # changed to "Agree"
    scale_item(v, 1)
    name = first.locator("input").first.get_attribute("name")
    v.tapper.answers[name] = "6"
    path = v.path
    v.tapper.answer_items()
    v.tapper.next()
    assert v.tapper.leave(path) == "Scale2"
    assert v.posts_to("Scale1") == 1
    v.assert_answers_stored()
    assert v.stored()[name] == 6
    assert not v.errors


def test_keyboard_users_can_look_through_the_options_before_moving_on(visit):
    v = visit("en", seed=13)
    v.start()
    to_page(v, "Scale1")
    n = v.items_on_page()
    counter = v.page.locator(".item-count")
    item_of = texts.load("en")["ui"]["item_of"]
    first = scale_item(v, 0)
    v.page.evaluate("() => document.activeElement && document.activeElement.blur()")
    v.page.keyboard.press("Tab")  # into the first question's radio group
    assert v.page.evaluate("() => document.activeElement.type") == "radio"
    v.page.clock.install()  # from here the page's timers run only when the test says so
    for _ in range(3):
        v.page.keyboard.press("ArrowDown")
    v.page.clock.run_for(2000)  # every timer due, the tap's pause before moving on included, fires
    assert counter.inner_text() == item_of.format(item=1, total=n)  # still here
    assert first.locator("input").nth(3).is_checked()
    v.page.clock.resume()
    v.page.locator("button.next").focus()
    v.page.keyboard.press("Enter")
    scale_item(v, 1)
    assert counter.inner_text() == item_of.format(item=2, total=n)
    assert v.posts_to("Scale1") == 0  # moving between items sends nothing
    assert not v.errors
