"""The class's own results, for the projector after the survey: what the class answered,
never who answered what.

Plain Python, no oTree (the view in `class_results_view.py` reads the database and
calls these). The numbers come from the analysis's own estimator core
(`analysis.core`): each version's mean with its t interval, and the two main effects
(trust − control, other − same) as the difference in means with the Neyman (= HC2)
standard error, Welch df and t interval, i.e. exactly what
`analysis.estimators.difference_in_means` reports for these students. No pandas.

Privacy and validity rules (`SMALL_COUNT` = 5, as on the dashboard):

* a version (cell) with fewer than 5 finished students shows no mean ("not enough
  answers yet"), and an effect is shown only when all four versions of its group have
  5 or more: otherwise the effect and the versions shown would give away the mean of a
  version of fewer than 5;
* by programme only where the class mixes programmes; a programme is shown only when
  each of its versions has 5 or more, and only when the students left out (the other
  programmes together) number 0 or at least 5 in every version: otherwise the class's
  numbers minus the programmes shown would give away a small group's mean;
* counts only of finished students; never an answer of one student.
"""

from __future__ import annotations

import html
import math

from analysis import contract, core

from .dashboard import SMALL_COUNT, is_still_answering

#: The versions in the order they are drawn: trust first, same profession first.
VERSIONS = (("trust", "same"), ("trust", "other"), ("control", "same"), ("control", "other"))
#: The two main effects: factor -> (treated, control), as the analysis defines them.
EFFECTS = tuple(contract.FACTORS.items())
SCALES = contract.OUTCOME_SCALES


# ---------------------------------------------------------------- who counts
def student(player: dict) -> dict:
    """One finished student as the results need them: programme, version and scale scores.

    Parameters
    ----------
    player : dict
        The student's player fields (programme, manager, partner and the scale items),
        e.g. one row of oTree's ``Player.values_dicts``.
    """
    row = dict(programme=player.get("programme"), manager=player.get("manager"),
               partner=player.get("partner"))
    for scale in SCALES:
        row[scale] = contract.scale_score(player.get(item) for item in contract.SCALES[scale])
    return row


def class_status(players: list[dict], participants: dict) -> dict:
    """Who has finished and who is still answering.

    Parameters
    ----------
    players : list of dict
        The session's player rows of this app (``completed``, ``withdrawn``,
        ``participant_id`` and the answers).
    participants : dict
        participant id -> dict with ``visited``, ``consented`` (True, False for a
        student who declined, None before the consent page) and ``page`` (the page the
        participant is on).

    Returns
    -------
    dict
        ``finished`` (list of :func:`student` rows of those who completed and did not
        withdraw) and ``in_progress`` (how many opened the link and have neither
        finished, declined nor reached the end page).
    """
    finished, in_progress = [], 0
    for p in players:
        if p.get("withdrawn"):
            continue
        if p.get("completed"):
            if p.get("manager") and p.get("partner"):
                finished.append(student(p))
            continue
        who = participants.get(p.get("participant_id")) or {}
        if is_still_answering(who.get("visited"), who.get("consented"), who.get("page"), False, False):
            in_progress += 1
    return dict(finished=finished, in_progress=in_progress)


# ---------------------------------------------------------------- numbers
def _finite(x) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _cell_counts(students: list[dict], scale: str) -> dict:
    counts = dict.fromkeys(VERSIONS, 0)
    for s in students:
        if s.get(scale) is not None and (s["manager"], s["partner"]) in counts:
            counts[(s["manager"], s["partner"])] += 1
    return counts


def group_results(students: list[dict], alpha: float = core.ALPHA) -> dict:
    """Per outcome scale: each version's mean with its interval, and the two main effects.

    Parameters
    ----------
    students : list of dict
        :func:`student` rows (one group: the whole class or one programme).
    alpha : float
        Two-sided level of the intervals (0.05: 95 %).

    Returns
    -------
    dict
        ``n`` and, per scale, ``versions`` (manager, partner, n, shown, mean, ci_low,
        ci_high) and ``effects`` (factor, shown, estimate, ci_low, ci_high, n_treated,
        n_control). Nothing but the count where a rule of the module hides it.
    """
    out = dict(n=len(students), scales={})
    for scale in SCALES:
        answered = [s for s in students if s.get(scale) is not None]
        counts = _cell_counts(answered, scale)
        versions = []
        for manager, partner in VERSIONS:
            y = [s[scale] for s in answered if s["manager"] == manager and s["partner"] == partner]
            row = dict(manager=manager, partner=partner, n=len(y), shown=len(y) >= SMALL_COUNT,
                       mean=None, ci_low=None, ci_high=None)
            if row["shown"]:
                m = core.mean_interval(y, alpha)
                row.update(mean=_finite(m["mean"]), ci_low=_finite(m["ci_low"]), ci_high=_finite(m["ci_high"]))
            versions.append(row)
        all_shown = min(counts.values()) >= SMALL_COUNT
        effects = []
        for factor, (treated, control) in EFFECTS:
            y1 = [s[scale] for s in answered if s[factor] == treated]
            y0 = [s[scale] for s in answered if s[factor] == control]
            row = dict(factor=factor, shown=all_shown, estimate=None, ci_low=None, ci_high=None,
                       n_treated=len(y1), n_control=len(y0))
            if all_shown:
                d = core.difference_in_means(y1, y0, alpha)
                row.update(estimate=_finite(d["estimate"]), ci_low=_finite(d["ci_low"]),
                           ci_high=_finite(d["ci_high"]))
            effects.append(row)
        out["scales"][scale] = dict(versions=versions, effects=effects)
    return out


def _version_counts(students: list[dict]) -> dict:
    counts = dict.fromkeys(VERSIONS, 0)
    for s in students:
        key = (s["manager"], s["partner"])
        if key in counts:
            counts[key] += 1
    return counts


def programmes_to_show(students: list[dict]) -> tuple[list[str], bool]:
    """The programmes that get their own results, and whether the class mixes programmes.

    A programme is shown when each of its four versions has at least 5 finished
    students, and the programmes left out must together have 0 or at least 5 in every
    version (else the smallest shown programme is left out too, until they do).

    Parameters
    ----------
    students : list of dict
        :func:`student` rows of the whole class.
    """
    present = [p for p in contract.PROGRAMMES if any(s["programme"] == p for s in students)]
    if len(present) < 2:
        return [], False
    members = {p: [s for s in students if s["programme"] == p] for p in present}
    shown = [p for p in present if min(_version_counts(members[p]).values()) >= SMALL_COUNT]
    while shown:
        rest = [s for p in present if p not in shown for s in members[p]]
        if all(n == 0 or n >= SMALL_COUNT for n in _version_counts(rest).values()):
            break
        shown.remove(min(shown, key=lambda p: (len(members[p]), p)))
    return shown, True


def class_results(students: list[dict], alpha: float = core.ALPHA) -> dict:
    """Everything the results page shows, from the class's finished students.

    Parameters
    ----------
    students : list of dict
        :func:`student` rows of the finished students.
    alpha : float
        Two-sided level of the intervals.

    Returns
    -------
    dict
        ``finished`` (count), ``overall`` (:func:`group_results` of the class),
        ``mixed`` (whether the class has several programmes), ``programmes``
        (list of (programme, :func:`group_results`)) and ``hidden_programmes`` (True
        when some programme of a mixed class is not shown).
    """
    shown, mixed = programmes_to_show(students)
    present = {s["programme"] for s in students}
    return dict(
        finished=len(students),
        overall=group_results(students, alpha),
        mixed=mixed,
        programmes=[(p, group_results([s for s in students if s["programme"] == p], alpha)) for p in shown],
        hidden_programmes=mixed and len(shown) < len(present),
    )


# ---------------------------------------------------------------- drawing (SVG on the server)
TRUST, CONTROL = "#1b7837", "#762a83"  # green / purple: apart for colour-blind eyes too
W = 1200  # SVG user units; the page is as wide, so 1 unit is about 1 px on a projector
PLOT = (450, 950)  # x of the plot area of the means (labels to its left, numbers to its right)
VALUE_X = 985
EFFECT_PLOT = (450, 850)  # the differences' plot: narrower, their numbers are longer
EFFECT_VALUE_X = 875
ROW = 54


def number(x: float, t: dict, digits: int, sign: bool = False) -> str:
    """A number as the page writes it: the language's decimal mark, a true minus sign.

    Parameters
    ----------
    x : float
        The number; it is rounded to `digits` first, so a value that rounds to 0 is
        written without a sign ("0.0", never "−0.0" or "+0.0").
    t : dict
        The ``class_results`` texts of the language (``decimal``).
    digits : int
        Decimals shown.
    sign : bool
        Write "+" before positive numbers (differences).
    """
    text = f"{abs(x):.{digits}f}".replace(".", t["decimal"])
    if round(x, digits) < 0:
        return "\u2212" + text
    return ("+" + text) if sign and round(x, digits) > 0 else text


def _interval(lo, hi, t: dict, digits: int, sign: bool = False) -> str:
    if lo is None or hi is None:
        return ""
    return t["interval"].format(low=number(lo, t, digits, sign), high=number(hi, t, digits, sign))


def _x(value: float, lo: float, hi: float, plot: tuple[int, int] = PLOT) -> int:
    a, b = plot
    return round(a + (value - lo) / (hi - lo) * (b - a))


def _data(*values) -> str:
    return " ".join("" if v is None else f"{v:.4f}" for v in values)


def shared_defs(t: dict, low_label: str, high_label: str) -> str:
    """What every chart repeats, drawn once per page and placed with `<use>`: the 1–7
    axis (`#axis`) and the row labels (`#v-trust-same` …, `#e-manager` …).

    Parameters
    ----------
    t : dict
        The ``class_results`` texts of the language: ``version`` (the label pattern with
        ``{manager}`` and ``{partner}``), ``manager`` and ``partner`` (arm code -> words)
        and ``effect`` (factor -> the effect's label).
    low_label : str
        The words of the answer scale's lowest point (1), written under the axis.
    high_label : str
        The words of its highest point (7).

    Returns
    -------
    str
        A 0 × 0 ``<svg>`` that holds only ``<defs>``; it must come before the charts of
        :func:`versions_svg` and :func:`effects_svg` on the page, which refer to its ids.
        Every text is HTML-escaped.
    """
    lo, hi = contract.LIKERT[0], contract.LIKERT[-1]
    grid = "".join(f"M{_x(v, lo, hi)} 0V{4 * ROW}" for v in contract.LIKERT)
    ticks = "".join(f'<text x="{_x(v, lo, hi)}" y="{4 * ROW + 26}" class="tick">{v}</text>' for v in contract.LIKERT)
    ends = (f'<text x="{(PLOT[0] + PLOT[1]) // 2}" y="{4 * ROW + 52}" class="end">{lo} = {html.escape(low_label)} · '
            f'{hi} = {html.escape(high_label)}</text>')
    labels = "".join(
        f'<text id="v-{m}-{p}" class="lab {"t" if m == "trust" else "c"}">'
        f'{html.escape(t["version"].format(manager=t["manager"][m], partner=t["partner"][p]))}</text>'
        for m, p in VERSIONS)
    labels += "".join(f'<text id="e-{f}" class="lab">{html.escape(t["effect"][f])}</text>' for f, _ in EFFECTS)
    return (f'<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>'
            f'<g id="axis"><path d="{grid}" class="grid"/>{ticks}{ends}</g>{labels}</defs></svg>')


def _rows(items: list[dict], value: str, label, draw, t: dict, plot: tuple[int, int] = PLOT) -> list[str]:
    """A chart's rows, one per item: its label (a `<use>` of the shared defs), then its
    drawing, or "not enough answers yet" where the item is masked. The words stand on a
    white band, so the grid lines do not run through them.

    Args:
        items: the rows' results (versions or effects), each with `shown`.
        value: the key of the row's number (`mean` or `estimate`).
        label: item -> the id of its label in the shared defs.
        draw: (item, y) -> the SVG of a shown row.
        t: the `class_results` texts.
        plot: the x range of the chart's plot area (where the grid is drawn).
    """
    parts = []
    for i, item in enumerate(items):
        y = i * ROW + ROW // 2
        parts.append(f'<use href="#{label(item)}" y="{y + 9}"/>')
        if item["shown"] and item[value] is not None:
            parts.append(draw(item, y))
        else:
            # the words' height only: the row above draws its "n = …" below its own middle
            parts.append(f'<rect x="{plot[0] - 8}" y="{y - 20}" width="{W - plot[0] + 8}" height="38" '
                         f'class="blank"/>'
                         f'<text x="{plot[0]}" y="{y + 9}" class="na">{html.escape(t["not_enough"])}</text>')
    return parts


def versions_svg(scale_result: dict, t: dict) -> str:
    """The four versions' means with their 95 % intervals on the 1–7 answer scale.

    Parameters
    ----------
    scale_result : dict
        One scale of :func:`group_results` (``group["scales"][scale]``); its ``versions``
        are drawn in their order, one row each. A version not ``shown`` (fewer than 5
        answers) gets the words "not enough answers yet" instead of a point.
    t : dict
        The ``class_results`` texts of the language (``decimal``, ``interval``,
        ``not_enough``).

    Returns
    -------
    str
        An inline ``<svg>`` that uses ``#axis`` and the version labels of
        :func:`shared_defs`. An interval reaching past 1 or 7 is cut at the end of the
        axis; the numbers beside it are not. Each shown row carries ``data-version``,
        ``data-n`` and ``data-v`` (mean, lower, upper to 4 decimals) for tests.
    """
    lo, hi = contract.LIKERT[0], contract.LIKERT[-1]
    height = 4 * ROW + 58

    def draw(v, y):
        colour = "t" if v["manager"] == "trust" else "c"
        whisker = ""
        if v["ci_low"] is not None:
            whisker = (f'<path d="M{_x(max(v["ci_low"], lo), lo, hi)} {y}H{_x(min(v["ci_high"], hi), lo, hi)}" '
                       f'class="w {colour}"/>')
        return (f'<g data-version="{v["manager"]} {v["partner"]}" data-n="{v["n"]}" '
                f'data-v="{_data(v["mean"], v["ci_low"], v["ci_high"])}">{whisker}'
                f'<circle cx="{_x(v["mean"], lo, hi)}" cy="{y}" r="13" class="{colour}"/>'
                f'<text x="{VALUE_X}" y="{y + 9}" class="val">{number(v["mean"], t, 1)}'
                f'<tspan class="ci"> {_interval(v["ci_low"], v["ci_high"], t, 1)}</tspan></text>'
                f'<text x="{VALUE_X}" y="{y + 28}" class="n">n = {v["n"]}</text></g>')

    rows = _rows(scale_result["versions"], "mean", lambda v: f'v-{v["manager"]}-{v["partner"]}', draw, t)
    return "".join([f'<svg viewBox="0 0 {W} {height}" class="chart" role="img"><use href="#axis"/>', *rows, "</svg>"])


def effect_range(results: dict) -> float:
    """Half-width of the difference axis: one scale for every effect on the page.

    Parameters
    ----------
    results : dict
        :func:`class_results`; the shown effects of the class and of every programme
        shown, on every scale, count (estimates and interval ends; masked ones are None
        and ignored).

    Returns
    -------
    float
        In scale points: the largest absolute estimate or interval end, rounded up to a
        multiple of 0.5, and at least 1.0 (also when nothing is shown yet).
    """
    extent = 1.0
    groups = [results["overall"], *(g for _, g in results["programmes"])]
    for g in groups:
        for s in g["scales"].values():
            for e in s["effects"]:
                for x in (e["estimate"], e["ci_low"], e["ci_high"]):
                    if x is not None:
                        extent = max(extent, abs(x))
    return math.ceil(extent * 2) / 2


def effects_svg(scale_result: dict, t: dict, extent: float) -> str:
    """The two main effects in scale points, with their 95 % intervals, around 0.

    Parameters
    ----------
    scale_result : dict
        One scale of :func:`group_results`; its ``effects`` (trust − control, other −
        same) are drawn in their order. Effects not ``shown`` (a version of the group
        under 5) get the words "not enough answers yet".
    t : dict
        The ``class_results`` texts of the language (``decimal``, ``interval``,
        ``not_enough``).
    extent : float
        Half-width of the axis in scale points (:func:`effect_range`): the axis runs from
        −extent to +extent with 0 in the middle. Interval ends beyond it are cut at the
        axis's end; the numbers beside it are not.

    Returns
    -------
    str
        An inline ``<svg>`` that uses the effect labels of :func:`shared_defs`; each shown
        row carries ``data-effect``, ``data-n`` (treated, control) and ``data-v``.
    """
    height = 2 * ROW + 36
    x = lambda v: _x(v, -extent, extent, EFFECT_PLOT)  # noqa: E731
    axis = (f'<path d="M{x(0)} 0V{2 * ROW}" class="zero"/>'
            f'<text x="{EFFECT_PLOT[0]}" y="{2 * ROW + 28}" class="tick">{number(-extent, t, 1)}</text>'
            f'<text x="{x(0)}" y="{2 * ROW + 28}" class="tick">0</text>'
            f'<text x="{EFFECT_PLOT[1]}" y="{2 * ROW + 28}" class="tick">{number(extent, t, 1, True)}</text>')

    def draw(e, y):
        whisker = ""
        if e["ci_low"] is not None:
            whisker = f'<path d="M{x(max(e["ci_low"], -extent))} {y}H{x(min(e["ci_high"], extent))}" class="w e"/>'
        return (f'<g data-effect="{e["factor"]}" data-n="{e["n_treated"]} {e["n_control"]}" '
                f'data-v="{_data(e["estimate"], e["ci_low"], e["ci_high"])}">{whisker}'
                f'<rect x="{x(e["estimate"]) - 12}" y="{y - 12}" width="24" height="24" class="e"/>'
                f'<text x="{EFFECT_VALUE_X}" y="{y + 9}" class="val">{number(e["estimate"], t, 2, True)}'
                f'<tspan class="ci"> {_interval(e["ci_low"], e["ci_high"], t, 2)}</tspan></text></g>')

    rows = _rows(scale_result["effects"], "estimate", lambda e: f'e-{e["factor"]}', draw, t, EFFECT_PLOT)
    return "".join([f'<svg viewBox="0 0 {W} {height}" class="chart" role="img">{axis}', *rows, "</svg>"])


def group_html(group: dict, t: dict, scale_titles: dict, extent: float, level: int) -> str:
    """One group's results (the class, or a programme): per scale, versions and effects.

    Parameters
    ----------
    group : dict
        :func:`group_results` of the group; its scales are drawn in their order.
    t : dict
        The ``class_results`` texts of the language.
    scale_titles : dict
        Scale name -> its heading as the page shows it (every scale of ``group`` must
        have one).
    extent : float
        Half-width of the difference axis (:func:`effect_range`), the same for every
        group on the page so their effects can be compared by eye.
    level : int
        The HTML heading level of each scale's title: 2 for the class, 3 inside a
        programme's section (whose own heading is an ``h2``).

    Returns
    -------
    str
        One ``<section class="scale">`` per scale, with :func:`versions_svg` and
        :func:`effects_svg`.
    """
    out = []
    for scale, r in group["scales"].items():
        out.append(f'<section class="scale" data-scale="{scale}"><h{level}>{html.escape(scale_titles[scale])}</h{level}>'
                   f'{versions_svg(r, t)}<p class="sub">{html.escape(t["effects"])}</p>{effects_svg(r, t, extent)}'
                   f'</section>')
    return "".join(out)


def render_page(results: dict, texts: dict, language: str, programme_names: dict) -> str:
    """The results page (one self-contained HTML document: inline CSS and SVG, no script).

    Parameters
    ----------
    results : dict
        :func:`class_results`.
    texts : dict
        The instrument texts of the session's language (``texts.load(language)``).
    language : str
        nb, da or en (the page's ``lang``).
    programme_names : dict
        Programme code -> name as the class knows it.
    """
    t = texts["class_results"]
    agree = texts["scales"]["agree7"]
    titles = {s: t["scales"][s] for s in SCALES}
    extent = effect_range(results)
    body = [f'<header><h1>{html.escape(t["title"])}</h1>'
            f'<p class="only">{html.escape(t["class_only"])}</p></header>',
            f'<p class="count">{html.escape(t["finished"].format(n=results["finished"]))}</p>',
            f'<div class="intro"><p class="design">{html.escape(t["design"])}</p>']
    if results["finished"] == 0:
        body.append(f'<p class="na">{html.escape(t["none_yet"])}</p>')
    else:
        body.append(f'<p class="how">{html.escape(t["how_to_read"])}</p>')
    body.append("</div>")
    if results["finished"]:
        body.append(group_html(results["overall"], t, titles, extent, 2))
        if results["mixed"]:
            body.append(f'<h2 class="by">{html.escape(t["by_programme"])}</h2>')
            if not results["programmes"]:
                body.append(f'<p class="na">{html.escape(t["by_programme_hidden"])}</p>')
            for programme, group in results["programmes"]:
                name = programme_names.get(programme, programme)
                body.append(f'<section class="programme" data-programme="{programme}"><h2>{html.escape(name)}: '
                            f'{html.escape(t["finished"].format(n=group["n"]))}</h2>'
                            f'{group_html(group, t, titles, extent, 3)}</section>')
            if results["programmes"] and results["hidden_programmes"]:
                body.append(f'<p class="na">{html.escape(t["programmes_hidden"])}</p>')
    return PAGE.format(lang=language, title=html.escape(t["title"]), css=CSS,
                       axis=shared_defs(t, agree["1"], agree["7"]), body="".join(body))


def render_warning(in_progress: int, texts: dict, language: str, anyway_url: str) -> str:
    """The page shown instead of the results while students are still answering.

    Parameters
    ----------
    in_progress : int
        How many have opened the link and not yet finished.
    texts : dict
        The instrument texts of the session's language.
    language : str
        nb, da or en.
    anyway_url : str
        The results page with ``?anyway=1``.
    """
    t = texts["class_results"]
    body = (f'<header><h1>{html.escape(t["in_progress_title"])}</h1></header>'
            f'<p class="warn">{html.escape(t["in_progress"].format(n=in_progress))}</p>'
            f'<p><a class="button" href="{html.escape(anyway_url)}">{html.escape(t["show_anyway"])}</a></p>')
    return PAGE.format(lang=language, title=html.escape(t["in_progress_title"]), css=CSS, axis="", body=body)


CSS = (
    "html{font:24px/1.35 system-ui,sans-serif;color:#111;background:#fff}"
    "body{margin:0 auto;max-width:1240px;padding:16px 20px 48px}"
    "header{display:flex;flex-wrap:wrap;align-items:baseline;justify-content:space-between;gap:0 24px}"
    "h1{font-size:42px;margin:0}h2{font-size:34px;margin:14px 0 2px}h3{font-size:30px;margin:18px 0 4px}"
    ".only{font-size:26px;font-weight:700;background:#fff3bf;padding:4px 12px;margin:6px 0}"
    ".count{font-size:32px;font-weight:700;margin:0}"
    ".intro{display:flex;flex-wrap:wrap;gap:0 32px;font-size:22px}.intro p{flex:1 1 520px;margin:4px 0}"
    ".sub{font-size:24px;font-weight:700;margin:0;color:#333}"
    ".programme{border-top:4px solid #999;margin-top:28px}.by{border-top:6px solid #111;padding-top:16px}"
    ".chart{width:100%;height:auto;display:block;overflow:visible}"
    ".chart text{font-size:28px;fill:#111}"
    # the axis is drawn once in <defs>: its texts match selectors outside `.chart`
    "text.tick{font-size:24px;text-anchor:middle;fill:#333}text.end{font-size:22px;fill:#333;text-anchor:middle}"
    "text.lab{font-size:28px;font-weight:700;fill:#111}"
    ".chart .na{font-style:italic;fill:#555}.chart .blank{fill:#fff}.chart .val{font-weight:700}.chart .ci{font-weight:400;font-size:24px}"
    ".chart .n{font-size:22px;fill:#333}"
    ".grid{stroke:#ccc;stroke-width:2}.zero{stroke:#111;stroke-width:3}"
    f".w{{stroke-width:7;stroke-linecap:round}}.w.t{{stroke:{TRUST}}}.w.c{{stroke:{CONTROL}}}.w.e{{stroke:#333}}"
    f"circle.t{{fill:{TRUST}}}circle.c{{fill:{CONTROL}}}text.lab.t{{fill:{TRUST}}}text.lab.c{{fill:{CONTROL}}}"
    "rect.e{fill:#111}"
    "p.na{font-style:italic;color:#555}.warn{font-size:32px;max-width:36em}"
    ".button{display:inline-block;font-size:28px;padding:12px 24px;border:3px solid #111;color:#111;"
    "text-decoration:none;border-radius:8px}"
)

PAGE = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style></head>
<body>{axis}{body}</body></html>
"""
