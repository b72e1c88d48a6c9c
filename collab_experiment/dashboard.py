"""What an instructor may see of a running class: counts only, small ones per cell masked.

Plain Python, no oTree: the projector view and the live dashboard call these with one
plain dict per participant, so the rules (what is counted, what is hidden) are tested
without a server. Nothing here returns one student's answers. The class totals (joined,
not started, answering now, left, finished, declined) are shown exactly: they say how far
the class is, not what anyone answered. Counts per programme or cell and every rate or
mean are masked: counts under `SMALL_COUNT` are shown as "<5" so a count of one cannot
point at a person.
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter, defaultdict

from analysis import contract

from . import assignment

SMALL_COUNT = 5
MASK = f"<{SMALL_COUNT}"
#: The treated and the control arm of each factor.
FACTORS = {"manager": ("trust", "control"), "partner": ("other", "same")}


def mask(n: int) -> int | str:
    """A count as the instructor sees it: exact from 5 on, '<5' below (0 stays 0).

    Args:
        n: a number of students (0 or more).

    Returns `n` itself (an int) or the string `MASK`; 0 is shown because "nobody" points
    at no one.
    """
    return n if n == 0 or n >= SMALL_COUNT else MASK


def mask_rate(numerator: int, denominator: int) -> str:
    """A percentage, shown only when both counts are large enough to hide a person.

    Args:
        numerator: how many passed (e.g. answered a check correctly).
        denominator: how many answered, the passed included.

    Returns the rate rounded to a whole percent, e.g. "83 %", or "–" when fewer than 5
    answered, or when 1–4 passed or 1–4 failed (a rate of 100 % or 0 % is shown from 5
    answers on: it tells what every one of them answered, but not who).
    """
    failed = denominator - numerator
    if denominator < SMALL_COUNT or 0 < numerator < SMALL_COUNT or 0 < failed < SMALL_COUNT:
        return "–"
    return f"{100 * numerator / denominator:.0f} %"


LEFT_AFTER_MINUTES = 10
#: The class totals in the order they are shown; joined = the sum of the other five.
STATUSES = ("not_started", "in_progress", "left", "finished", "declined")


def left_after_minutes(env=os.environ) -> int:
    """Minutes without a page request after which a student who started counts as *left*.

    Args:
        env: the environment; `OTREE_LEFT_AFTER_MINUTES` (a positive whole number)
            overrides the default of 10.
    """
    try:
        minutes = int(env.get("OTREE_LEFT_AFTER_MINUTES") or LEFT_AFTER_MINUTES)
    except ValueError:
        return LEFT_AFTER_MINUTES
    return minutes if minutes > 0 else LEFT_AFTER_MINUTES


def status(row: dict, now: float, left_after: int) -> str | None:
    """Where one student is: one of `STATUSES`, or None for a link nobody opened.

    A student who withdrew (`withdrawn`) reached the debrief, where the withdrawal code
    is shown: they count as *finished*. Withdrawing blanks their answers, `completed`
    included, so without this they would count as answering now and later as left; and
    a separate count would tell the instructor who withdrew.

    Args:
        row: the participant's plain dict (`joined`, `consented` True/False/None,
            `finished`, `withdrawn`, `last_seen` epoch seconds of the last page request).
        now: the current time, epoch seconds.
        left_after: minutes without a page request after which a started student has left.
    """
    if not row.get("joined"):
        return None
    if row.get("finished") or row.get("withdrawn"):
        return "finished"
    consented = row.get("consented")
    if consented is False:
        return "declined"
    if not consented:
        return "not_started"  # opened the link, has not answered the consent page yet
    last_seen = row.get("last_seen")
    if last_seen is not None and now - last_seen > left_after * 60:
        return "left"
    return "in_progress"


def is_still_answering(joined, consented, page, finished, withdrawn) -> bool:
    """Whether the class results count a student as *still answering*: opened the link,
    and has neither finished, withdrawn, declined nor reached the end page. One rule for
    the Report tab, the projector and the results page (`class_results.class_status`).

    Args:
        joined: the participant opened the link.
        consented: True, False (declined) or None (before the consent page).
        page: the name of the page the participant is on.
        finished: the player's `completed`.
        withdrawn: the player's `withdrawn`.
    """
    return bool(joined) and not finished and not withdrawn and consented is not False and page != "Finished"


def still_answering(rows: list[dict]) -> int:
    """How many are still answering (`is_still_answering`), from the rows of `status`
    with each participant's `page`.

    Args:
        rows: one plain dict per participant (`joined`, `consented`, `page`, `finished`, `withdrawn`).
    """
    return sum(1 for r in rows if is_still_answering(r.get("joined"), r.get("consented"), r.get("page"),
                                                     r.get("finished"), r.get("withdrawn")))


def progress(rows: list[dict], now: float | None = None, left_after: int = LEFT_AFTER_MINUTES) -> dict[str, int]:
    """The class totals, exact: joined and how they split into the five `STATUSES`.

    Args:
        rows: one plain dict per participant (see `status`).
        now: the current time, epoch seconds (default: now).
        left_after: minutes without a page request after which a started student has left.
    """
    now = time.time() if now is None else now
    counts = Counter(status(r, now, left_after) for r in rows)
    return dict(joined=sum(counts[s] for s in STATUSES), **{s: counts[s] for s in STATUSES})


def cells_table(rows: list[dict], now: float | None = None, left_after: int = LEFT_AFTER_MINUTES) -> list[dict]:
    """Per programme and cell: assigned, finished, answering now and left, each masked.

    Args:
        rows: one plain dict per participant (see `status`).
        now: the current time, epoch seconds (default: now).
        left_after: minutes without a page request after which a started student has left.
    """
    now = time.time() if now is None else now
    out = []
    for programme in assignment.PROGRAMMES:
        for manager, partner in assignment.CELLS:
            members = [r for r in rows if r.get("programme") == programme
                       and r.get("manager") == manager and r.get("partner") == partner]
            if not members:
                continue
            counts = Counter(status(r, now, left_after) for r in members)
            out.append(dict(
                programme=programme, manager=manager, partner=partner,
                assigned=mask(len(members)), finished=mask(counts["finished"]),
                in_progress=mask(counts["in_progress"]), left=mask(counts["left"]),
            ))
    return out


def balance(rows: list[dict]) -> list[dict]:
    """The largest difference between two cells' counts per stratum (the guarantee: ≤ 1).

    Args:
        rows: one plain dict per participant (`programme`, `manager`, `partner`); those
            without a `manager` (not assigned yet) are skipped. Every `programme` must be
            one of `assignment.PROGRAMMES` (the strata), which also gives the order.

    Returns one dict per programme with assigned students: `programme`, `assigned`
    (masked) and `largest_difference` (exact, over all four cells of `assignment.CELLS`:
    0 or 1 when the assignment works as it should).
    """
    counts: dict[str, Counter] = defaultdict(Counter)
    for r in rows:
        if r.get("manager"):
            counts[r["programme"]][(r["manager"], r["partner"])] += 1
    return [
        dict(programme=p, assigned=mask(sum(c.values())), largest_difference=assignment.max_imbalance(c))
        for p, c in sorted(counts.items(), key=lambda kv: assignment.PROGRAMMES.index(kv[0]))
    ]


def checks_by_arm(rows: list[dict]) -> list[dict]:
    """Attention and manipulation-check pass rates by arm, among those who answered.

    Args:
        rows: one plain dict per participant: `manager`, `partner`, `attention_pass`,
            `mc_manager_correct` and `mc_partner_correct` (True, False, or None when not
            answered).

    Returns one dict per cell of `assignment.CELLS` (empty cells included): `manager`,
    `partner`, `answered` (masked count of those who answered the manipulation checks)
    and the rates `attention`, `mc_manager`, `mc_partner` (see `mask_rate`).
    """
    out = []
    for manager, partner in assignment.CELLS:
        members = [r for r in rows if r.get("manager") == manager and r.get("partner") == partner]
        answered = [r for r in members if r.get("mc_manager_correct") is not None]
        attention = [r for r in members if r.get("attention_pass") is not None]
        out.append(dict(
            manager=manager, partner=partner, answered=mask(len(answered)),
            attention=mask_rate(sum(1 for r in attention if r["attention_pass"]), len(attention)),
            mc_manager=mask_rate(sum(1 for r in answered if r["mc_manager_correct"]), len(answered)),
            mc_partner=mask_rate(sum(1 for r in answered if r.get("mc_partner_correct")), len(answered)),
        ))
    return out


AUTONOMY_RANGE = (min(contract.LIKERT), max(contract.LIKERT))


def mask_mean(values: list[float]) -> str:
    """A mean, shown only when at least 5 people give it and it is not at an end of the
    scale (a mean of exactly 1 or 7 would tell what every one of them answered).

    Args:
        values: the scale scores (1–7, one per student who answered; no None).

    Returns the mean to one decimal, e.g. "5.3", or "–".
    """
    if len(values) < SMALL_COUNT:
        return "–"
    mean = math.fsum(values) / len(values)
    if mean in AUTONOMY_RANGE:
        return "–"
    return f"{mean:.1f}"


def autonomy_by_manager(rows: list[dict]) -> dict:
    """Perceived autonomy (the check of the manager factor) by manager arm, and the
    difference trust − control in scale points: a working manipulation shows a clearly
    positive difference. Masked like the rates: a mean of fewer than 5 is not shown.

    Args:
        rows: one plain dict per participant; `autonomy` is the scale score (mean of the
            autonomy items) or None when not (yet) answered.
    """
    scores = {arm: [r["autonomy"] for r in rows if r.get("manager") == arm and r.get("autonomy") is not None]
              for arm in FACTORS["manager"]}
    arms = [dict(manager=arm, answered=mask(len(v)), mean=mask_mean(v)) for arm, v in scores.items()]
    shown = all(a["mean"] != "–" for a in arms)
    difference = (math.fsum(scores["trust"]) / len(scores["trust"])
                  - math.fsum(scores["control"]) / len(scores["control"])) if shown else None
    return dict(arms=arms, difference="–" if difference is None else f"{difference:+.1f}")


def mde_80(n_treated: int, n_control: int, alpha: float = 0.05, power: float = 0.8) -> float | None:
    """Smallest standardised effect (Cohen's d) a two-sided t-test detects with this power.

    Exact, from the noncentral t distribution (the same definition as
    `pingouin.power_ttest2n`); None when an arm has fewer than two people.

    Args:
        n_treated: students in the treated arm.
        n_control: students in the control arm.
        alpha: two-sided significance level of the test.
        power: the probability of detecting the effect (0.8: 80 %).

    Returns d in standard deviations of the outcome, e.g. about 0.8 for two arms of 26
    and about 0.4 for two arms of 100 (four times the students, half the effect).
    """
    if n_treated < 2 or n_control < 2:
        return None
    from scipy import optimize, stats  # only the dashboard needs scipy here

    df = n_treated + n_control - 2
    scale = (1 / n_treated + 1 / n_control) ** 0.5
    critical = stats.t.ppf(1 - alpha / 2, df)

    def shortfall(d):
        nc = d / scale
        achieved = stats.nct.sf(critical, df, nc) + stats.nct.cdf(-critical, df, nc)
        return (1.0 if math.isnan(achieved) else achieved) - power  # NaN: far in the tail

    return float(optimize.brentq(shortfall, 1e-6, 20))


def detectable_effects(rows: list[dict]) -> list[dict]:
    """Per programme and pooled: the effect detectable with 80 % power from finished counts.

    Only the programmes the analysis estimates (`contract.EFFECT_PROGRAMMES`) count,
    pooled included: the `other` programme is never estimated.

    Args:
        rows: one plain dict per participant (`finished`, `programme`, `manager`, `partner`).
    """
    finished = [r for r in rows if r.get("finished") and r.get("manager")
                and r.get("programme") in contract.EFFECT_PROGRAMMES]
    out = []
    for programme in [*contract.EFFECT_PROGRAMMES, "pooled"]:
        members = finished if programme == "pooled" else [r for r in finished if r["programme"] == programme]
        for factor, (treated, control) in FACTORS.items():
            n1 = sum(1 for r in members if r[factor] == treated)
            n0 = sum(1 for r in members if r[factor] == control)
            d = mde_80(n1, n0)
            out.append(dict(programme=programme, factor=factor, finished=mask(n1 + n0),
                            mde_80="–" if d is None else f"{d:.2f} SD"))
    return out


def summary(rows: list[dict], now: float | None = None, left_after: int | None = None) -> dict:
    """Everything the dashboard shows, from plain per-participant dicts.

    Args:
        rows: one plain dict per participant (see `status`).
        now: the current time, epoch seconds (default: now).
        left_after: minutes without a page request after which a started student has
            left (default: `left_after_minutes()`, from the environment).
    """
    now = time.time() if now is None else now
    left_after = left_after_minutes() if left_after is None else left_after
    return dict(
        progress=progress(rows, now, left_after),
        left_after_minutes=left_after,
        cells=cells_table(rows, now, left_after),
        balance=balance(rows),
        checks=checks_by_arm(rows),
        autonomy=autonomy_by_manager(rows),
        mde=detectable_effects(rows),
    )
