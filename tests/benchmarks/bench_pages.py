"""Benchmark of the student's pages (a script, not a test): python tests/benchmarks/bench_pages.py

In Debian's Chromium on a throttled phone connection (1.6 Mbit/s both ways, 150 ms
round trip, set through the DevTools protocol), for our pages and for a stock oTree page
(Bootstrap, jQuery, `{{ formfields }}`, `{{ next_button }}`) served by a second
`otree prodserver` in the same run:

* bytes received (headers and bodies) and requests per page;
* time until the page can be answered: DOMContentLoaded of the document (styles and
  scripts in, the form ready), measured from the navigation's start, which includes
  oTree's redirects; for our later pages, which arrive in place after one fetch, from
  the tap on Next until survey.js has set the new page up.

Pages: the first page (opened from the session link, empty cache), a later page
reached by tapping Next (cache in use), and that later page reloaded (cache in use).
Each run uses a fresh browser profile; medians of --runs runs. Prints a Markdown section
for BENCHMARKS.md and writes the raw numbers to test-artifacts/bench_pages.json.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import platform
import statistics
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parents[1])]

from browser import Tapper, Weigher, launch, phone, screenshot, wait_ready  # noqa: E402
from conftest import Server, copy_project  # noqa: E402

import stock  # noqa: E402

LATENCY_MS = 150
BYTES_PER_SECOND = 200_000  # 1.6 Mbit/s
DCL = "() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"

STOCK_APP = '''
from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "stock"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


def likert(label):
    return models.IntegerField(label=label, choices=[1, 2, 3, 4, 5, 6, 7], widget=widgets.RadioSelectHorizontal)


class Player(BasePlayer):
    q1 = likert("This workplace would be attractive to me.")
    q2 = likert("If this job were advertised, I would apply.")
    q3 = likert("I could imagine working here for several years.")


class First(Page):
    form_model = "player"
    form_fields = ["q1"]


class Later(Page):
    form_model = "player"
    form_fields = ["q2"]


class Last(Page):
    form_model = "player"
    form_fields = ["q3"]


page_sequence = [First, Later, Last]
'''
STOCK_TEMPLATE = '''{{ block title }}A stock oTree page{{ endblock }}
{{ block content }}{{ formfields }}{{ next_button }}{{ endblock }}
'''


def stock_project(folder: pathlib.Path) -> pathlib.Path:
    return stock.write_project(folder, STOCK_APP, {name: STOCK_TEMPLATE for name in ("First", "Later", "Last")})


def sample(weigh: Weigher, ms: float) -> dict:
    return dict(bytes=weigh.bytes, requests=len(weigh.requests), cached=weigh.from_cache,
                sockets=weigh.sockets, ms=ms)


def measure_ours(browser, server) -> dict:
    session = server.create_session("classroom", 1, language="en")
    context = phone(browser)
    page = context.new_page()
    weigh = Weigher(context, page)
    weigh.throttle(LATENCY_MS, BYTES_PER_SECOND)
    tapper = Tapper(page, seed=1)
    out = {}
    page.goto(session["session_wide_url"])
    wait_ready(page)
    out["first"] = sample(weigh, page.evaluate(DCL))
    tapper.answer_page()  # consent → AboutYou
    tapper.answer_items()  # the items of AboutYou: taps only, nothing sent yet
    before = page.evaluate("() => location.pathname")
    weigh.reset()
    t0 = page.evaluate("() => { const t = performance.now(); document.querySelector('button.next').click(); return t; }")
    tapper.leave(before)
    ready = page.evaluate("() => performance.getEntriesByName('survey-ready').pop().startTime")
    out["later"] = sample(weigh, ready - t0)
    weigh.reset()
    page.reload()
    wait_ready(page)
    out["reloaded"] = sample(weigh, page.evaluate(DCL))
    context.close()
    return out


def measure_stock(browser, server) -> dict:
    session = server.create_session("stock", 1)
    context = phone(browser)
    page = context.new_page()
    weigh = Weigher(context, page)
    weigh.throttle(LATENCY_MS, BYTES_PER_SECOND)
    out = {}
    page.goto(session["session_wide_url"], wait_until="load")
    out["first"] = sample(weigh, page.evaluate(DCL))
    screenshot(page, "bench-stock-oTree-390x844")  # for comparison with ours
    page.locator("input[name=q1]").first.check()
    weigh.reset()
    with page.expect_navigation(wait_until="load"):
        page.locator("button.otree-btn-next, button:has-text('Next')").first.click()
    out["later"] = sample(weigh, page.evaluate(DCL))
    weigh.reset()
    page.reload(wait_until="load")
    out["reloaded"] = sample(weigh, page.evaluate(DCL))
    context.close()
    return out


def median_of(runs: list[dict], which: str, what: str) -> float:
    return statistics.median(r[which][what] for r in runs)


def table(results: dict, runs: int) -> str:
    rows = [
        "| page | server | KB received | requests to the network | from cache | time to usable, ms (min–max) | target |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    labels = dict(first="first page (empty cache)", later="later page, tap on Next (cache)",
                  reloaded="later page reloaded (cache)")
    targets = dict(first="≤ 100 KB, ≤ 2000 ms", later="≤ 20 KB, ≤ 800 ms", reloaded="≤ 20 KB, ≤ 800 ms")
    for which in ("first", "later", "reloaded"):
        for name in ("ours", "stock"):
            r = results[name]
            rows.append(
                f"| {labels[which]} | {name} | {median_of(r, which, 'bytes') / 1000:.1f} | "
                f"{median_of(r, which, 'requests'):.0f} | {median_of(r, which, 'cached'):.0f} | "
                f"{median_of(r, which, 'ms'):.0f} ({min(x[which]['ms'] for x in r):.0f}–{max(x[which]['ms'] for x in r):.0f}) | "
                f"{targets[which] if name == 'ours' else ''} |"
            )
    return "\n".join(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        # The stock page in production mode (no debug panel). Ours renders the same bytes in
        # either mode (our layout has no debug panel); production would need PostgreSQL here.
        ours = Server(copy_project(tmp / "ours")).start()
        stock = Server(stock_project(tmp / "stock"), env=dict(OTREE_PRODUCTION="1")).start()
        results = {"ours": [], "stock": []}
        try:
            with sync_playwright() as pw:
                browser = launch(pw)
                for _ in range(args.runs):  # interleaved, so both see the same machine load
                    results["ours"].append(measure_ours(browser, ours))
                    results["stock"].append(measure_stock(browser, stock))
                version = browser.version
                browser.close()
        finally:
            ours.stop()
            stock.stop()
    out = HERE.parents[1] / "test-artifacts" / "bench_pages.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(f"Chromium {version}, {platform.machine()}, {args.runs} runs (medians); "
          f"throttled to {BYTES_PER_SECOND * 8 / 1e6:.1f} Mbit/s both ways, {LATENCY_MS} ms round trip; "
          f"viewport 390×844, touch.\n")
    print(table(results, args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
