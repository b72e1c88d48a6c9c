"""What an instructor may see of a running class: counts only, small ones masked.

Plain Python, no oTree: the projector view and the live dashboard call these with one
plain dict per participant, so the rules (what is counted, what is hidden) are tested
without a server. Nothing here returns one student's answers; counts under
`SMALL_COUNT` are shown as "<5" so a count of one cannot point at a person.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

from . import assignment

SMALL_COUNT = 5
MASK = f"<{SMALL_COUNT}"


def mask(n: int) -> int | str:
    """A count as the instructor sees it: exact from 5 on, '<5' below (0 stays 0)."""
    return n if n == 0 or n >= SMALL_COUNT else MASK


def mask_rate(numerator: int, denominator: int) -> str:
    """A percentage, shown only when both counts are large enough to hide a person."""
    failed = denominator - numerator
    if denominator < SMALL_COUNT or 0 < numerator < SMALL_COUNT or 0 < failed < SMALL_COUNT:
        return "–"
    return f"{100 * numerator / denominator:.0f} %"


def progress(rows: list[dict]) -> dict[str, int]:
    """Joined / consented / finished: totals of the whole class (mask them for display)."""
    return dict(
        joined=sum(1 for r in rows if r.get("joined")),
        consented=sum(1 for r in rows if r.get("consented")),
        finished=sum(1 for r in rows if r.get("finished")),
    )


def cells_table(rows: list[dict]) -> list[dict]:
    """Per programme and cell: assigned, finished, left (assigned but not finished)."""
    out = []
    for programme in assignment.PROGRAMMES:
        for manager, partner in assignment.CELLS:
            members = [r for r in rows if r.get("programme") == programme
                       and r.get("manager") == manager and r.get("partner") == partner]
            if not members:
                continue
            finished = sum(1 for r in members if r.get("finished"))
            out.append(dict(
                programme=programme, manager=manager, partner=partner,
                assigned=mask(len(members)), finished=mask(finished),
                left=mask(len(members) - finished),
            ))
    return out


def balance(rows: list[dict]) -> list[dict]:
    """The largest difference between two cells' counts per stratum (the guarantee: ≤ 1)."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for r in rows:
        if r.get("manager"):
            counts[r["programme"]][(r["manager"], r["partner"])] += 1
    return [
        dict(programme=p, assigned=mask(sum(c.values())), largest_difference=assignment.max_imbalance(c))
        for p, c in sorted(counts.items(), key=lambda kv: assignment.PROGRAMMES.index(kv[0]))
    ]


def checks_by_arm(rows: list[dict]) -> list[dict]:
    """Attention and manipulation-check pass rates by arm, among those who answered."""
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


def mde_80(n_treated: int, n_control: int, alpha: float = 0.05, power: float = 0.8) -> float | None:
    """Smallest standardised effect (Cohen's d) a two-sided t-test detects with this power.

    Exact, from the noncentral t distribution (the same definition as
    `pingouin.power_ttest2n`); None when an arm has fewer than two people.
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


FACTORS = {"manager": ("trust", "control"), "partner": ("other", "same")}


def detectable_effects(rows: list[dict]) -> list[dict]:
    """Per programme and pooled: the effect detectable with 80 % power from finished counts."""
    finished = [r for r in rows if r.get("finished") and r.get("manager")]
    out = []
    for programme in [*assignment.PROGRAMMES[:4], "pooled"]:
        members = finished if programme == "pooled" else [r for r in finished if r["programme"] == programme]
        for factor, (treated, control) in FACTORS.items():
            n1 = sum(1 for r in members if r[factor] == treated)
            n0 = sum(1 for r in members if r[factor] == control)
            d = mde_80(n1, n0)
            out.append(dict(programme=programme, factor=factor, finished=mask(n1 + n0),
                            mde_80="–" if d is None else f"{d:.2f} SD"))
    return out


def summary(rows: list[dict]) -> dict:
    """Everything the dashboard shows, from plain per-participant dicts."""
    return dict(
        progress={k: mask(v) for k, v in progress(rows).items()},
        cells=cells_table(rows),
        balance=balance(rows),
        checks=checks_by_arm(rows),
        mde=detectable_effects(rows),
    )
