"""A student with a phone: Debian's Chromium driven by Playwright, tapping through the survey.

Shared by the browser tests and the page benchmark. Accessibility is checked with
axe-core (WCAG 2.2 A and AA rules, from the axe-playwright-python package: nothing is
fetched) plus our own checks for what axe does not test (`check_page`).
"""

from __future__ import annotations

import pathlib
import random
import re
import shutil
import sqlite3

from student import url_part

REPO = pathlib.Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"


def chromium_path() -> str | None:
    if pathlib.Path(CHROMIUM).exists():
        return CHROMIUM
    return shutil.which("chromium")


def launch(playwright):
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)


def phone(browser, width: int = 390, height: int = 844, **kwargs):
    """A touch phone's browser context (no device pixel ratio: smaller screenshots)."""
    return browser.new_context(
        viewport=dict(width=width, height=height), is_mobile=True, has_touch=True,
        device_scale_factor=1, **kwargs,
    )


def page_name(url: str) -> str:
    return url_part(url, "page")


def participant_code(url: str) -> str:
    return url_part(url, "code")


# --- Accessibility: axe-core (bundled by axe-playwright-python, nothing fetched) for the
# WCAG 2.2 A and AA rules; our own checks only for what axe does not test: the page's
# language is the student's, no horizontal scrolling at 320 px, with 200 % text and at
# 200 % zoom, the buttons still on screen, and keyboard focus visible.
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
_axe = None


def axe_violations(page, scripts: bool = True) -> list[str]:
    """axe-core's WCAG 2.2 AA violations on the page as it is now, one line per rule and element.

    page: a Playwright page.
    scripts: whether the page's context runs JavaScript. axe needs the page's timers, which
        a context with JavaScript off never runs: its page is then checked as a copy of its
        current document (without its scripts, `<noscript>` shown) in a context with them.
    """
    global _axe
    from axe_playwright_python.sync_playwright import Axe

    _axe = _axe or Axe()
    options = {"runOnly": {"type": "tag", "values": WCAG_22_AA}, "resultTypes": ["violations"]}
    if scripts:
        results = _axe.run(page, options=options)
    else:
        document = re.sub(r"<script\b.*?</script>", "", page.content(), flags=re.S | re.I)
        document = re.sub(r"</?noscript>", "", document, flags=re.I)
        twin = phone(page.context.browser, **page.viewport_size)
        try:
            copy = twin.new_page()
            # the same URL, answered with the copy: its styles load from the server as before
            url = page.url
            copy.route(lambda u: u == url, lambda route: route.fulfill(body=document, content_type="text/html"))
            copy.goto(url)
            results = _axe.run(copy, options=options)
        finally:
            twin.close()
    return [
        f"axe {v['id']} ({v['impact']}): {v['help']} at {' '.join(map(str, node['target']))}"
        for v in results.response["violations"] for node in v["nodes"]
    ]


OVERFLOW_JS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


#: Tap targets of at least 44 x 44 CSS px (the README's promise; axe's WCAG 2.2 rule asks
#: only 24). A radio or checkbox is tapped through its label.
TARGETS_JS = """() => {
  const out = [];
  for (const el of document.querySelectorAll('input, button, summary, a[href], select')) {
    const target = (el.type === 'radio' || el.type === 'checkbox') ? (el.closest('label') || el) : el;
    const cs = getComputedStyle(target), r = target.getBoundingClientRect();
    if (cs.display === 'none' || cs.visibility === 'hidden' || r.width === 0 || r.height === 0) continue;
    if (r.width < 44 || r.height < 44)
      out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.name ? '[name=' + el.name + ']' : ''} ${Math.round(r.width)}x${Math.round(r.height)}`);
  }
  return out;
}"""


def check_page(page, lang: str, scripts: bool = True) -> list[str]:
    """axe-core's WCAG 2.2 AA rules, the page's language and 44 px tap targets at the current
    size, then no overflow at 320 px, at 200 % text size and at 200 % zoom, and a visible keyboard focus.

    page: a Playwright page showing the page to check.
    lang: the language the page must declare (`html[lang]`).
    scripts: whether the page's context runs JavaScript (see `axe_violations`).
    """
    problems = axe_violations(page, scripts)
    if page.evaluate("() => document.documentElement.lang") != lang:
        problems.append(f"html[lang] is not {lang}")
    small_targets = page.evaluate(TARGETS_JS)
    if small_targets:
        problems.append("tap targets under 44x44 px: " + ", ".join(small_targets))
    size = page.viewport_size
    if page.evaluate(OVERFLOW_JS) > 1:
        problems.append(f"horizontal overflow at {size['width']} px")
    page.set_viewport_size(dict(width=320, height=size["height"]))
    if page.evaluate(OVERFLOW_JS) > 1:
        problems.append("horizontal overflow at 320 px")
    page.evaluate("() => { document.documentElement.style.fontSize = '200%' }")
    over = page.evaluate(OVERFLOW_JS)
    if over > 1:
        problems.append(f"horizontal overflow at 320 px with 200 % text ({over}px)")
    # still usable: the main button (if any) is on the page and wide enough to tap
    small = page.evaluate("""() => [...document.querySelectorAll('button')].filter(b => {
        const r = b.getBoundingClientRect(); return r.width > 0 && (r.right > document.documentElement.clientWidth + 1);
    }).length""")
    if small:
        problems.append("buttons cut off at 200 % text")
    page.evaluate("() => { document.documentElement.style.fontSize = '' }")
    # browser zoom at 200 % on the phone: half as many CSS pixels across
    page.set_viewport_size(dict(width=size["width"] // 2, height=size["height"] // 2))
    over = page.evaluate(OVERFLOW_JS)
    if over > 1:
        problems.append(f"horizontal overflow at 200 % zoom ({size['width'] // 2} px wide, {over}px)")
    page.set_viewport_size(size)
    # keyboard focus is visible: Tab to the first control and read its outline
    page.evaluate("() => { if (document.activeElement) document.activeElement.blur() }")
    page.keyboard.press("Tab")
    outline = page.evaluate("""() => {
        const el = document.activeElement;
        if (!el || el === document.body) return null;
        const cs = getComputedStyle(el);
        return el.matches(':focus-visible') ? parseFloat(cs.outlineWidth) : 0;
    }""")
    if outline is not None and outline < 2:
        problems.append("keyboard focus not visible")
    return problems


def screenshot(page, name: str) -> pathlib.Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_ready(page, timeout: float = 15000) -> str:
    """Wait until survey.js has set the page up (or, without script, the page loaded)."""
    page.wait_for_load_state("domcontentloaded")
    page.wait_for_function(
        "() => document.documentElement.getAttribute('data-ready') === location.pathname",
        timeout=timeout,
    )
    return page_name(page.url)


class Tapper:
    """Answers each page by tapping, as a student would; remembers every answer given."""

    def __init__(self, page, *, programme: str = "nursing", seed: int = 0, script: bool = True):
        self.page = page
        self.programme = programme
        self.rng = random.Random(seed)
        self.script = script
        self.answers: dict[str, str] = {}

    def ready(self) -> str:
        if self.script:
            return wait_ready(self.page)
        self.page.wait_for_load_state("domcontentloaded")
        return page_name(self.page.url)

    def choose(self, item) -> None:
        """Tap one option of a visible question (fieldset) and remember it."""
        options = item.locator("input[type=radio]")
        values = [options.nth(i).get_attribute("value") for i in range(options.count())]
        name = options.first.get_attribute("name")
        value = self.programme if name == "programme" else self.rng.choice(values)
        item.locator(f"label[for=id_{name}_{value}]").tap()
        self.answers[name] = value

    def answer_items(self, upto: int | None = None) -> int:
        """Tap through the visible page's questions (the first `upto` of them)."""
        items = self.page.locator("fieldset.item")
        n = items.count() if upto is None else upto
        # after a reload the answered items are behind: start at the one on screen
        start = next((i for i in range(n) if items.nth(i).is_visible()), 0)
        for i in range(start, n):
            item = items.nth(i)
            item.wait_for(state="visible")
            self.choose(item)
        return n

    def next(self) -> None:
        self.page.locator("button.next").first.tap(timeout=5000)

    def leave(self, before: str) -> str:
        """Wait for the page after `before` (a different path)."""
        self.page.wait_for_function("(p) => location.pathname !== p", arg=before)
        return self.ready()

    def answer_page(self) -> str:
        """Answer the page on screen and move on; returns the next page's name."""
        page = self.page
        name = page_name(page.url)
        before = page.evaluate("() => location.pathname")
        if name == "Consent":
            page.locator("label[for=id_age_confirmed]").tap()
            page.locator("button[name=consented][value=True]").tap()
        else:
            self.answer_items()
            self.next()
        return self.leave(before)


def rows(db: pathlib.Path, table: str) -> list[dict]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(f"SELECT * FROM {table}")]  # noqa: S608 (fixed names)
    finally:
        con.close()


def player_of(db: pathlib.Path, table: str, code: str) -> dict:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        found = con.execute(
            f"SELECT t.* FROM {table} t JOIN otree_participant p ON p.id = t.participant_id WHERE p.code = ?",
            (code,),
        ).fetchall()
        assert len(found) == 1, f"{len(found)} rows in {table} for {code}"
        return dict(found[0])
    finally:
        con.close()


class Weigher:
    """Bytes and requests on the wire, from Chromium's own network events (CDP).

    Bytes are what was received (headers and bodies, as DevTools' "transferred"). A
    request is one that went to the network (a redirect hop counts as one; answers from
    the browser's cache without asking the server do not, a 304 revalidation does).
    The page websocket is counted apart.
    """

    def __init__(self, context, page):
        self.cdp = context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.reset()
        self.cdp.on("Network.requestWillBeSent", self._sent)
        self.cdp.on("Network.requestServedFromCache", self._cached)
        self.cdp.on("Network.responseReceived", self._response)
        self.cdp.on("Network.loadingFinished", self._finished)
        self.cdp.on("Network.webSocketCreated", self._socket)

    def reset(self) -> None:
        self.sent: list[tuple[str, str, str]] = []  # (requestId, method, url), one per hop
        self.cached: set[str] = set()
        self.received: dict[str, int] = {}
        self.redirect_bytes = 0
        self.sockets = 0

    def _sent(self, event) -> None:
        if not event["request"]["url"].startswith("http"):
            return  # data: URLs never touch the network
        if event.get("redirectResponse"):
            self.redirect_bytes += int(event["redirectResponse"].get("encodedDataLength") or 0)
        self.sent.append((event["requestId"], event["request"]["method"], event["request"]["url"]))

    def _cached(self, event) -> None:
        self.cached.add(event["requestId"])

    def _response(self, event) -> None:
        if event["response"].get("fromDiskCache") or event["response"].get("fromPrefetchCache"):
            self.cached.add(event["requestId"])

    def _finished(self, event) -> None:
        self.received[event["requestId"]] = int(event.get("encodedDataLength") or 0)

    def _socket(self, event) -> None:
        self.sockets += 1

    @property
    def requests(self) -> list[tuple[str, str]]:
        """(method, url) of each request that went to the network."""
        return [(m, u) for i, m, u in self.sent if i not in self.cached]

    @property
    def from_cache(self) -> int:
        return sum(1 for i, _, _ in self.sent if i in self.cached)

    @property
    def bytes(self) -> int:
        return sum(self.received.values()) + self.redirect_bytes

    def throttle(self, latency_ms: float = 150, bytes_per_second: float = 200_000) -> None:
        """1.6 Mbit/s both ways with 150 ms round trip, as in Chrome DevTools' presets."""
        self.cdp.send("Network.emulateNetworkConditions", dict(
            offline=False, latency=latency_ms,
            downloadThroughput=bytes_per_second, uploadThroughput=bytes_per_second,
        ))
