"""The class's own results on the projector: the analysis's numbers, masked under 5,
guarded while students answer, in three languages, for the admin only."""

from __future__ import annotations

import math
import os
import pathlib
import random
import re
import statistics
import subprocess
import sys

import pytest
import requests
from scipy import stats

from analysis import contract, core
from analysis import estimators as est
from collab_experiment import class_results as cr
from collab_experiment import texts
from conftest import REPO, Server, admin_login, copy_project
from student import Student

SCALES = contract.OUTCOME_SCALES
HERE = pathlib.Path(__file__).resolve().parent


# ---------------------------------------------------------------- the numeric core
def test_difference_in_means_is_the_textbook_welch_interval():
    rng = random.Random(3)
    y1 = [rng.randint(1, 7) for _ in range(13)]
    y0 = [rng.randint(1, 7) + 0.25 for _ in range(9)]
    a, b = statistics.variance(y1) / len(y1), statistics.variance(y0) / len(y0)
    df = (a + b) ** 2 / (a**2 / (len(y1) - 1) + b**2 / (len(y0) - 1))
    half = stats.t.ppf(0.975, df) * math.sqrt(a + b)
    diff = statistics.mean(y1) - statistics.mean(y0)
    got = core.difference_in_means(y1, y0)
    assert got["estimate"] == pytest.approx(diff, abs=1e-12)
    assert got["df"] == pytest.approx(df, rel=1e-12)
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((diff - half, diff + half), abs=1e-12)
    # and statsmodels' unequal-variance interval, computed its own way
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    lo, hi = CompareMeans(DescrStatsW(y1), DescrStatsW(y0)).tconfint_diff(usevar="unequal")
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((lo, hi), abs=1e-10)
    assert got["p_value"] == pytest.approx(stats.ttest_ind(y1, y0, equal_var=False).pvalue, rel=1e-9)


def test_mean_interval_is_the_one_sample_t_interval():
    y = [3, 4, 4, 5, 7, 2, 6]
    half = stats.t.ppf(0.975, len(y) - 1) * statistics.stdev(y) / math.sqrt(len(y))
    got = core.mean_interval(y)
    assert got["mean"] == pytest.approx(statistics.mean(y))
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((statistics.mean(y) - half, statistics.mean(y) + half))
    assert math.isnan(core.mean_interval([4])["ci_low"])


def test_estimators_and_the_page_call_the_same_core():
    assert est.welch is not core.welch  # kept, with its doctest, but it is the core's computation
    y1, y0 = [1.0, 2.0, 4.0, 4.5], [2.0, 2.5, 3.0]
    assert est.welch(y1, y0) == core.welch(y1, y0)
    assert est.t_inference is core.t_inference and est.arm_moments is core.arm_moments


# ---------------------------------------------------------------- a class made up here
def make_class(cells: dict, seed: int = 1) -> list[dict]:
    """Finished students: {(programme, manager, partner): count} -> student rows."""
    rng = random.Random(seed)
    out = []
    for (programme, manager, partner), n in cells.items():
        for _ in range(n):
            shift = 0.6 if manager == "trust" else 0.0
            out.append(dict(programme=programme, manager=manager, partner=partner,
                            **{s: min(7.0, max(1.0, round(rng.gauss(4 + shift, 1.2) * 4) / 4)) for s in SCALES}))
    return out


def per_cell(programme: str, counts: tuple[int, int, int, int]) -> dict:
    return {(programme, m, p): n for (m, p), n in zip(cr.VERSIONS, counts)}


def render(results, language="en"):
    return cr.render_page(results, texts.load(language), language, texts.programme_labels(language, None, {}))


def shown_numbers(page: str) -> list[tuple[int, ...]]:
    """Every group of numbers the page shows, with the counts it rests on."""
    return [tuple(int(x) for x in n.split()) for n in re.findall(r'data-n="([\d ]+)"', page)]


def test_a_version_with_fewer_than_five_shows_no_mean_and_no_effect():
    students = make_class(per_cell("nursing", (5, 5, 5, 4)))
    r = cr.class_results(students)["overall"]["scales"]["attractiveness"]
    assert [v["shown"] for v in r["versions"]] == [True, True, True, False]
    assert r["versions"][3]["mean"] is None and r["versions"][3]["ci_low"] is None
    # the effects would give away the small version's mean, given the three others
    assert [e["shown"] for e in r["effects"]] == [False, False]
    assert all(e["estimate"] is None for e in r["effects"])
    page = render(cr.class_results(students))
    assert page.count(texts.load("en")["class_results"]["not_enough"]) == 3 * (1 + 2)
    assert all(min(n) >= 5 for n in shown_numbers(page))
    assert 'data-version="control other"' not in page and "data-effect" not in page


def test_a_masked_rows_words_stand_on_white_not_across_the_grid():
    """Each "not enough answers yet" sits on a white band covering the plot area of its
    row, drawn after the grid (the axis comes first in the chart), so no line crosses it."""
    students = make_class(per_cell("nursing", (5, 5, 5, 4)))
    page = render(cr.class_results(students))
    t = texts.load("en")["class_results"]
    found = re.findall(r'<rect x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)" class="blank"/>'
                       r'<text x="(\d+)" y="(\d+)" class="na">([^<]*)</text>', page)
    assert len(found) == page.count(t["not_enough"]) == 3 * (1 + 2)
    for rx, ry, width, height, tx, ty, words in found:
        rx, ry, width, height, tx, ty = map(int, (rx, ry, width, height, tx, ty))
        assert words == t["not_enough"]
        assert rx < tx and rx + width >= cr.PLOT[1] and rx + width >= cr.EFFECT_PLOT[1]
        assert ry < ty - 20 and ty + 8 < ry + height  # the band holds the line of text
        assert height < cr.ROW - 10  # and leaves the row above its "n = …"
    assert ".chart .blank{fill:#fff}" in page
    for chart in re.findall(r'<svg viewBox.*?</svg>', page):
        if "blank" in chart:
            assert chart.index('<use href="#axis"/>' if "#axis" in chart else 'class="zero"') < chart.index("blank")


def test_five_in_every_version_shows_everything():
    students = make_class(per_cell("nursing", (5, 5, 5, 5)))
    page = render(cr.class_results(students))
    assert page.count("data-version=") == 4 * len(SCALES) and page.count("data-effect=") == 2 * len(SCALES)
    assert texts.load("en")["class_results"]["not_enough"] not in page


def test_one_programme_has_no_programme_section():
    results = cr.class_results(make_class(per_cell("teacher", (8, 8, 8, 8))))
    assert not results["mixed"] and results["programmes"] == []
    assert texts.load("en")["class_results"]["by_programme"] not in render(results)


def test_a_small_programme_hides_the_programme_section():
    # nursing alone is large enough, but the class minus nursing would be the 3 teachers
    students = make_class({**per_cell("nursing", (6, 6, 6, 6)), **per_cell("teacher", (1, 1, 1, 0))})
    results = cr.class_results(students)
    assert results["mixed"] and results["programmes"] == []
    page = render(results)
    assert texts.load("en")["class_results"]["by_programme_hidden"] in page
    assert "data-programme" not in page


def test_programmes_are_shown_when_the_rest_is_also_five_or_none():
    students = make_class({**per_cell("nursing", (6, 6, 6, 6)), **per_cell("teacher", (5, 5, 5, 5)),
                           **per_cell("management", (1, 0, 1, 0))})
    results = cr.class_results(students)
    [(shown, group)] = results["programmes"]  # one of the two is left out to cover management's two
    assert shown in ("nursing", "teacher") and results["hidden_programmes"]
    page = render(results)
    assert f'data-programme="{shown}"' in page and texts.load("en")["class_results"]["programmes_hidden"] in page


@pytest.mark.parametrize("seed", range(40))
def test_no_number_rests_on_fewer_than_five_students_anywhere(seed):
    """Random classes: every shown mean or effect rests on groups of at least 5, and the
    students outside the programmes shown are 0 or at least 5 in every version (so the
    class's numbers minus the programmes' numbers give away no small group)."""
    rng = random.Random(seed)
    cells = {(p, m, q): rng.choice([0, 0, 1, 2, 3, 4, 5, 6, 9, 15])
             for p in contract.PROGRAMMES[: rng.randint(1, 5)] for m, q in cr.VERSIONS}
    students = make_class(cells, seed)
    results = cr.class_results(students)
    for group in [results["overall"], *(g for _, g in results["programmes"])]:
        for r in group["scales"].values():
            for v in r["versions"]:
                assert (v["mean"] is not None) == (v["n"] >= 5)
            small = min(v["n"] for v in r["versions"]) < 5
            assert all((e["estimate"] is None) == small for e in r["effects"])
    shown = {p for p, _ in results["programmes"]}
    rest = [s for s in students if s["programme"] not in shown]
    for m, q in cr.VERSIONS:
        left = sum(1 for s in rest if (s["manager"], s["partner"]) == (m, q))
        assert left == 0 or left >= 5 or not shown
    page = render(results)
    assert all(min(n) >= 5 for n in shown_numbers(page))


# ---------------------------------------------------------------- who is still answering
def test_status_counts_those_still_answering_and_keeps_only_the_finished():
    base = dict(programme="nursing", manager="trust", partner="same", **{i: 4 for i in contract.OUTCOME_ITEMS})
    players = [
        dict(base, participant_id=1, completed=True, withdrawn=False),
        dict(base, participant_id=2, completed=True, withdrawn=True),  # withdrew: never counted
        dict(base, participant_id=3, completed=False, withdrawn=False),  # on the scales
        dict(participant_id=4, completed=False, withdrawn=False),  # on the consent page
        dict(participant_id=5, completed=False, withdrawn=False),  # declined
        dict(participant_id=6, completed=False, withdrawn=False),  # a place nobody took
        dict(participant_id=7, completed=False, withdrawn=False),  # at the end page
    ]
    participants = {1: dict(visited=True, consented=True, page="Finished"),
                    2: dict(visited=True, consented=True, page="Finished"),
                    3: dict(visited=True, consented=True, page="Scale2"),
                    4: dict(visited=True, consented=None, page="Consent"),
                    5: dict(visited=True, consented=False, page="Finished"),
                    6: dict(visited=False, consented=None, page=None),
                    7: dict(visited=True, consented=True, page="Finished")}
    status = cr.class_status(players, participants)
    assert status["in_progress"] == 2
    assert len(status["finished"]) == 1 and status["finished"][0]["attractiveness"] == 4.0


def test_a_withdrawal_as_manage_leaves_it_is_neither_finished_nor_still_answering():
    """`manage withdraw` blanks the answers and `completed`; the participant is still on
    the debrief page. They are out of the results and not "still answering", as the
    dashboard counts them (finished)."""
    from collab_experiment import dashboard

    base = dict(programme="nursing", manager="trust", partner="same", **{i: 4 for i in contract.OUTCOME_ITEMS})
    blanked = {key: None for key in base}
    players = [dict(base, participant_id=1, completed=True, withdrawn=False),
               dict(blanked, participant_id=2, completed=None, withdrawn=True)]
    participants = {1: dict(visited=True, consented=True, page="Finished"),
                    2: dict(visited=True, consented=True, page="Debrief")}
    status = cr.class_status(players, participants)
    assert status["in_progress"] == 0
    assert len(status["finished"]) == 1
    rows = [dict(joined=True, consented=True, finished=bool(p["completed"]), withdrawn=p["withdrawn"],
                 last_seen=10**9) for p in players]
    assert dashboard.progress(rows, now=10**9)["in_progress"] == status["in_progress"]


def test_the_warning_page_names_the_count_and_shows_no_result():
    for language in texts.LANGUAGES:
        t = texts.load(language)["class_results"]
        page = cr.render_warning(7, texts.load(language), language, "/ClassResults/abc?anyway=1")
        assert t["in_progress"].format(n=7) in page.replace("&#x27;", "'")
        assert 'href="/ClassResults/abc?anyway=1"' in page and "data-version" not in page


# ---------------------------------------------------------------- the page
BIG_CLASS = {(p, m, q): 15 for p in contract.PROGRAMMES for m, q in cr.VERSIONS}  # 300 students


@pytest.mark.parametrize("language", texts.LANGUAGES)
def test_the_page_speaks_the_session_language(language):
    results = cr.class_results(make_class(BIG_CLASS))
    page = render(results, language)
    t = texts.load(language)["class_results"]
    assert f'<html lang="{language}">' in page
    unescaped = page.replace("&#x27;", "'")
    for key in ("title", "class_only", "design", "how_to_read", "effects", "by_programme"):
        assert t[key] in unescaped, key
    for scale in SCALES:
        assert t["scales"][scale] in unescaped
    for factor in contract.FACTORS:
        assert t["effect"][factor] in unescaped
    assert t["finished"].format(n=300) in unescaped
    for name in texts.programme_labels(language, None, {}).values():
        assert name in unescaped
    # numbers with the language's decimal mark; no English left in another language
    means = re.findall(r'class="val">([^<]+)<', page)
    assert means and all(t["decimal"] in m for m in means)
    if language != "en":
        en = texts.load("en")["class_results"]
        assert en["title"] not in page and en["class_only"] not in unescaped


def test_the_page_for_300_is_one_small_document_without_scripts():
    page = render(cr.class_results(make_class(BIG_CLASS)))
    assert len(page.encode()) < 50_000
    assert "<script" not in page and "<link" not in page and "<img" not in page
    assert page.count("<svg") == 1 + 2 * len(SCALES) * (1 + len(contract.PROGRAMMES))


def test_nothing_personal_in_the_page():
    students = make_class(BIG_CLASS)
    page = render(cr.class_results(students))
    for word in ("participant", "withdrawal", "code"):
        assert word not in page.lower()


def test_the_app_side_imports_no_pandas():
    code = (
        "import sys\n"
        "import collab_experiment.class_results_view\n"
        "from collab_experiment import class_results as cr, texts\n"
        "s = [dict(programme='nursing', manager=m, partner=p, attractiveness=4.0, trust_manager=5.0,"
        " collaboration=3.0) for m, p in cr.VERSIONS for _ in range(6)]\n"
        "cr.render_page(cr.class_results(s), texts.load('nb'), 'nb', {})\n"
        "print(sorted(m for m in ('pandas', 'scipy.stats', 'matplotlib') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- a bots-run class
def parse_page(page: str) -> dict:
    """(programme or 'class', scale) -> {'versions': {(m, p): (n, mean, lo, hi, shown text)},
    'effects': {factor: (estimate, lo, hi, shown text)}} from the page's marked-up numbers."""
    out = {}
    overall, _, programmes = page.partition('class="by"')
    blocks = [("class", overall)]
    blocks += re.findall(r'data-programme="(\w+)">(.*?</section>)</section>', programmes, flags=re.S)
    for group, text in blocks:
        for scale, body in re.findall(r'data-scale="(\w+)">(.*?)</section>', text, flags=re.S):
            entry = out.setdefault((group, scale), dict(versions={}, effects={}))
            for m, p, n, v, shown in re.findall(
                    r'data-version="(\w+) (\w+)" data-n="(\d+)" data-v="([^"]*)">.*?class="val">([^<]*)<', body):
                entry["versions"][(m, p)] = (int(n), *map(float, v.split()), shown)
            for f, v, shown in re.findall(r'data-effect="(\w+)" data-n="[\d ]+" data-v="([^"]*)">.*?class="val">([^<]*)<',
                                          body):
                entry["effects"][f] = (*map(float, v.split()), shown)
    return out


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory):
    """120 dry-run bots (`otree test dryrun`) through the real apps; their export and page."""
    folder = tmp_path_factory.mktemp("dryrun")
    project = copy_project(folder / "project", with_bots=True)
    out = folder / "out"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "OTREE_PRODUCTION", "OTREE_AUTH_LEVEL")}
    env.update(OTREE_DRYRUN="1", PATH=str(pathlib.Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    result = subprocess.run([sys.executable, str(HERE / "class_results_dryrun.py"), "120", str(out)],
                            cwd=project, env=env, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out


def test_the_page_of_a_bots_run_class_says_what_the_analysis_says(dry_run):
    from analysis import effects as E
    from analysis.load import tidy_from_exports
    from analysis.plan import load_plan

    page = (dry_run / "class_results.html").read_text(encoding="utf-8")
    tidy = tidy_from_exports([dry_run / "collab_experiment_custom.csv"], include_bots=True)
    finished = tidy[tidy["completed"].fillna(False).astype(bool) & ~tidy["withdrawn"].fillna(False).astype(bool)]
    t = texts.load("en")["class_results"]
    assert t["finished"].format(n=len(finished)) in page
    # every bot that was assigned finished: the report's analysis sample is the page's class
    sample = est.analysis_sample(tidy)
    assert set(sample["participant_code"]) <= set(finished["participant_code"])
    numbers = parse_page(page)

    def same_effect(shown, row):
        estimate, lo, hi, text = shown
        assert (estimate, lo, hi) == pytest.approx((row.estimate, row.ci_low, row.ci_high), abs=6e-5)
        assert text == cr.number(row.estimate, t, 2, sign=True)

    def same_mean(shown, row):
        n, mean, lo, hi, text = shown
        assert n == row.n and (mean, lo, hi) == pytest.approx((row["mean"], row.ci_low, row.ci_high), abs=6e-5)
        assert text == cr.number(row["mean"], t, 1)

    # the whole class: the analysis's difference in means on the class's finished students
    whole = finished.assign(programme="class")
    means = E.cell_means(whole)
    for scale in SCALES:
        entry = numbers[("class", scale)]
        assert len(entry["versions"]) == 4 and len(entry["effects"]) == 2
        for factor in contract.FACTORS:
            [row] = est.difference_in_means(whole, scale, factor, ["class"]).itertuples()
            same_effect(entry["effects"][factor], row)
        for (m, p), shown in entry["versions"].items():
            [row] = [r for _, r in means.iterrows() if (r.manager, r.partner, r.outcome) == (m, p, scale)]
            same_mean(shown, row)

    # by programme: the rows `python -m analysis report` writes for this session
    effects = E.estimate_effects(tidy, load_plan())
    means = E.cell_means(tidy)
    shown_programmes = {g for g, _ in numbers if g != "class"}
    assert {"nursing", "teacher"} <= shown_programmes  # 30 % each of 120: at least 5 per version
    for programme in shown_programmes:
        for scale in SCALES:
            entry = numbers[(programme, scale)]
            for factor in contract.FACTORS:
                if programme in contract.EFFECT_PROGRAMMES:
                    [row] = effects[(effects.outcome == scale) & (effects.factor == factor)
                                    & (effects.programme == programme)
                                    & (effects.estimator == "difference_in_means")].itertuples()
                else:
                    [row] = est.difference_in_means(finished, scale, factor, [programme]).itertuples()
                same_effect(entry["effects"][factor], row)
            for (m, p), shown in entry["versions"].items():
                [row] = [r for _, r in means.iterrows()
                         if (r.programme, r.manager, r.partner, r.outcome) == (programme, m, p, scale)]
                same_mean(shown, row)
    # programmes left out are exactly those with a version under 5, or left out to cover them
    counts = finished.groupby(["programme", "manager", "partner"]).size()
    for programme in set(finished["programme"]) - shown_programmes:
        small = [counts.get((programme, m, p), 0) for m, p in cr.VERSIONS]
        assert min(small) < 5 or any(0 < counts.get((q, m, p), 0) < 5
                                     for q in set(finished["programme"]) for m, p in cr.VERSIONS)
    assert all(min(n) >= 5 for n in shown_numbers(page))


# ---------------------------------------------------------------- through the server
AUTH_ENV = dict(OTREE_ADMIN_PASSWORD="class-results-test", OTREE_AUTH_LEVEL="STUDY",
                OTREE_REST_KEY="class-results-rest-key-0123")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("server") / "project")
    srv = Server(project, env=AUTH_ENV).start()
    yield srv
    srv.stop()


def create(server, n, language, **extra):
    r = requests.post(server.url + "/api/sessions", json=dict(
        session_config_name="classroom", num_participants=n, **extra,
        modified_session_config_fields=dict(language=language, site="oslo")),
        headers={"otree-rest-key": server.env["OTREE_REST_KEY"]}, timeout=60)
    r.raise_for_status()
    return r.json()


def test_the_page_is_closed_without_the_admin_login(server):
    session = create(server, 2, "en")
    url = f"{server.url}/ClassResults/{session['code']}"
    anonymous = requests.get(url, allow_redirects=False, timeout=30)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["location"]
    anyway = requests.get(url + "?anyway=1", allow_redirects=False, timeout=30)
    assert anyway.status_code == 302 and "/login" in anyway.headers["location"]
    assert admin_login(server).get(url, timeout=30).status_code == 200


def test_mid_session_the_page_warns_and_asks_then_masks(server):
    session = create(server, 10, "nb", room_name="oslo")  # the projector shows a room's link
    link = session["session_wide_url"]
    t = texts.load("nb")["class_results"]
    done = [Student(link, programme="nursing", seed=i).open() for i in range(6)]
    for s in done:
        s.walk()
    waiting = [Student(link, programme="nursing", seed=10 + i).open() for i in range(2)]
    for s in waiting:
        s.walk(until="Vignette")
    admin = admin_login(server)
    url = f"{server.url}/ClassResults/{session['code']}"

    warning = admin.get(url, timeout=30)
    assert warning.status_code == 200 and warning.headers["cache-control"] == "no-store"
    assert t["in_progress"].format(n=2) in warning.text and "?anyway=1" in warning.text
    assert "data-version" not in warning.text and t["title"] not in warning.text

    report = admin.get(f"{server.url}/AdminReport/{session['code']}", timeout=30).text
    en = texts.load("en")["class_results"]
    assert en["button"] in report and en["in_progress_note"].format(n=2) in report
    assert f"/ClassResults/{session['code']}" in report
    projector = admin.get(f"{server.url}/Projector/{session['code']}", timeout=30).text
    assert f'href="/ClassResults/{session["code"]}"' in projector and t["button"] in projector
    # the projector says, in the class's language, how many are still answering, as the Report tab does
    assert f'>{t["in_progress_note"].format(n=2)}</span>' in projector
    live = admin.get(f"{server.url}/ClassCounts/{session['code']}", timeout=30).json()
    assert live["still_answering"] == 2

    page = admin.get(url + "?anyway=1", timeout=30).text
    assert t["title"] in page and t["finished"].format(n=6) in page
    # six students in four versions: no version has 5, so no mean and no effect anywhere
    assert "data-v=" not in page and page.count(t["not_enough"]) == len(SCALES) * 6
    for s in done + waiting:
        assert s.code not in page

    for s in waiting:
        s.walk()
    final = admin.get(url, timeout=30).text  # nobody answering: no question asked
    assert t["in_progress_title"] not in final and t["finished"].format(n=8) in final
    projector = admin.get(f"{server.url}/Projector/{session['code']}", timeout=30).text
    assert 'id="still-answering"' in projector and t["in_progress_note"].format(n=0) not in projector
    assert admin.get(f"{server.url}/ClassCounts/{session['code']}", timeout=30).json()["still_answering"] == 0


@pytest.mark.parametrize("language", texts.LANGUAGES)
def test_the_page_in_each_session_language(server, language):
    session = create(server, 2, language)
    t = texts.load(language)["class_results"]
    response = admin_login(server).get(f"{server.url}/ClassResults/{session['code']}", timeout=30)
    assert response.headers["content-encoding"] == "gzip"  # requests asks for it, as browsers do
    page = response.text
    assert f'<html lang="{language}">' in page
    assert t["title"] in page and t["none_yet"] in page and t["finished"].format(n=0) in page
    assert "Traceback" not in page
