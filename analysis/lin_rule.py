"""Lin's estimator that is estimable: a pre-specified rule for the covariates that enter.

Lin (2013) regresses the outcome on the treatment, the centred covariates and their
interactions, so each arm fits its own slope on every covariate column. With every dummy
of every covariate (age band, gender, municipal experience, …) a programme of a dry run's
size has an arm with as many columns as people: leverage 1, HC2 undefined, not estimable.
The plan's ``[covariates.lin]`` fixes the rule, applied per programme on the people
analysed (outcome observed):

1. a categorical level held by fewer than ``min_level`` people in either arm (Lin fits
   a slope per arm) is merged with the other small levels into one level; if that merged
   level is still that small, it joins the most common level; a covariate left with one
   level drops out;
2. a numeric covariate's missing values are mean-filled; the missingness indicator is a
   column only when at least ``min_level`` people of each arm are missing (and answered);
3. at most K = floor(``max_terms_share`` × the smaller arm) covariate columns: covariates
   enter whole, in the plan's order (numeric first, then categorical), skipping any that
   would exceed K.

The same rule sizes the design: :func:`planned_terms` gives K and the covariates that fit
at the plan's ``[design]`` sample sizes (for the pre-registration), and the report lists
what entered (``lin_covariates.csv``).

Reference: Lin, W. (2013). Agnostic notes on regression adjustments to experimental data:
reexamining Freedman's critique. Annals of Applied Statistics 7, 295-318.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

from . import estimators as est
from .contract import ANSWER_CODES, EFFECT_PROGRAMMES, FACTORS

if TYPE_CHECKING:  # pragma: no cover  (plan imports the registry, which imports this module)
    from .plan import Plan

DEFAULT_RULE = {"min_level": 5, "max_terms_share": 0.1}


def rule_of(plan: Plan) -> dict:
    """The plan's ``[covariates.lin]`` rule, defaults filled in.

    Parameters
    ----------
    plan : Plan
        The analysis plan.
    """
    raw = plan.raw.get("covariates", {}).get("lin", {})
    return {k: type(v)(raw.get(k, v)) for k, v in DEFAULT_RULE.items()}


def rule_columns(d: pd.DataFrame, t: np.ndarray, numeric: Sequence[str],
                 categorical: Sequence[str], cap: int, min_level: int
                 ) -> tuple[np.ndarray, list[str], list[str]]:
    """Covariate columns chosen by the rule.

    Parameters
    ----------
    d : DataFrame
        The programme's analysed people.
    t : array
        Their treatment indicator (levels are counted in each arm: Lin fits a slope per arm).
    numeric, categorical : sequences of str
        The plan's covariates, in order.
    cap : int
        Most covariate columns allowed (K).
    min_level : int
        Smallest level (and missingness indicator) kept as its own column.

    Returns
    -------
    X, entered, left_out
        The columns (uncentred), the covariates that entered (with their columns), and
        those left out (with the reason).
    """
    cands: list[tuple[str, list[np.ndarray]]] = []
    for c in numeric:
        x = d[c].to_numpy(dtype=float)
        miss = ~np.isfinite(x)
        if miss.all() or np.nanstd(x) == 0:
            cands.append((c, []))
            continue
        cols = [np.where(miss, np.nanmean(x), x)]
        if min(miss[t == 1].sum(), miss[t == 0].sum(), (~miss[t == 1]).sum(),
               (~miss[t == 0]).sum()) >= min_level:
            cols.append(miss.astype(float))
        cands.append((c, cols))
    treated = np.asarray(t) == 1
    for c in categorical:
        codes, names = pd.factorize(d[c].astype("str").fillna("(missing)"))
        k = len(names)
        total = np.bincount(codes, minlength=k)
        in_arm = np.minimum(np.bincount(codes[treated], minlength=k),
                            np.bincount(codes[~treated], minlength=k))
        small = in_arm < min_level
        if small.any():  # small levels merged into one (code k); still small: the largest level
            codes = np.where(small[codes], k, codes)
            merged = codes == k
            if min(merged[treated].sum(), merged[~treated].sum()) < min_level and (~small).any():
                codes = np.where(merged, int(np.flatnonzero(~small)[np.argmax(total[~small])]), codes)
        counts = np.bincount(codes, minlength=k + 1)
        levels = [lev for lev in np.argsort(-counts, kind="stable") if counts[lev] > 0]
        cands.append((c, [(codes == lev).astype(float) for lev in levels[1:]]))  # most common: reference
    X, entered, left = [], [], []
    for name, cols in cands:
        if not cols:
            left.append(f"{name} (no variation)")
        elif len(X) + len(cols) <= cap:
            X += cols
            entered.append(f"{name} ({len(cols)})" if len(cols) > 1 else name)
        else:
            left.append(f"{name} ({len(cols)} column{'s' if len(cols) != 1 else ''}; cap {cap})")
    M = np.column_stack(X) if X else np.empty((len(d), 0))
    return M, entered, left


def lin(df: pd.DataFrame, outcome: str, factor: str, numeric: Sequence[str],
        categorical: Sequence[str] = (), programmes: Sequence[str] | None = None,
        alpha: float = 0.05, rule: dict | None = None) -> pd.DataFrame:
    """Lin's estimate per programme with the covariate rule, HC2 SE, df n − k.

    Parameters
    ----------
    df : DataFrame
        Tidy rows (the analysis sample).
    outcome : str
        An outcome column.
    factor : {'manager', 'partner'}
    numeric, categorical : sequences of str
        The plan's covariates, in order.
    programmes : sequence of str, optional
        Programmes to estimate (all with effects when omitted).
    alpha : float
        1 − coverage.
    rule : dict, optional
        ``min_level`` and ``max_terms_share`` (:data:`DEFAULT_RULE` when omitted).

    Returns
    -------
    DataFrame
        Effects-schema rows, estimator ``lin``.
    """
    rule = {**DEFAULT_RULE, **(rule or {})}
    rows = []
    for prog in programmes if programmes is not None else EFFECT_PROGRAMMES:
        d = df[(df["programme"] == prog) & df[outcome].notna() & df[factor].notna()]
        t = est.treatment(d, factor)
        y = d[outcome].to_numpy(dtype=float)
        n1, n0 = int(t.sum()), int(len(t) - t.sum())
        cap = int(np.floor(rule["max_terms_share"] * min(n1, n0)))
        if n1 < 2 or n0 < 2:
            rows.append(est.make_row(outcome, factor, prog, "lin", np.nan, np.nan, np.nan, n1, n0,
                                     alpha, note=est._small_note(n1, n0)))
            continue
        C, entered, left = rule_columns(d, t, numeric, categorical, cap, rule["min_level"])
        C = C - C.mean(axis=0)
        X = np.column_stack([np.ones(len(d)), t, C, C * t[:, None]])
        keep = est.full_rank_columns(X)
        note = ""
        if 1 not in keep:
            rows.append(est.make_row(outcome, factor, prog, "lin", np.nan, np.nan, np.nan, n1, n0,
                                     alpha, note="not estimable: treatment collinear with covariates"))
            continue
        if len(keep) < X.shape[1]:
            note = f"dropped {X.shape[1] - len(keep)} collinear covariate columns"
        beta, cov, dfr = est.ols_hc2(X[:, keep], y)
        if not np.isfinite(cov[1, 1]):
            note = "not estimable: leverage 1 (HC2 undefined)"
        rows.append(est.make_row(outcome, factor, prog, "lin", beta[1], np.sqrt(cov[1, 1]), dfr,
                                 n1, n0, alpha, note=note))
    return est.rows_to_frame(rows)


def lin_covariates(tidy: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Which covariates entered Lin's estimator, per programme, for each of the plan's
    confirmatory main effects (the other outcomes follow the same rule on their own samples).

    Parameters
    ----------
    tidy : DataFrame
        The tidy table.
    plan : Plan
        Covariates and rule.
    """
    s = est.analysis_sample(tidy)
    rule = rule_of(plan)
    rows = []
    pairs = list(dict.fromkeys((o, f) for _, o, f in plan.confirmatory if f in FACTORS))
    for outcome, factor in pairs:
        for prog in EFFECT_PROGRAMMES:
            d = s[(s["programme"] == prog) & s[outcome].notna() & s[factor].notna()]
            t = est.treatment(d, factor)
            n1, n0 = int(t.sum()), int(len(t) - t.sum())
            cap = int(np.floor(rule["max_terms_share"] * min(n1, n0)))
            C, entered, left = rule_columns(d, t, plan.numeric_covariates,
                                            plan.categorical_covariates, cap, rule["min_level"])
            rows.append(dict(outcome=outcome, factor=factor, programme=prog, n_treated=n1,
                             n_control=n0, cap=cap, columns=C.shape[1],
                             entered=", ".join(entered), left_out=", ".join(left)))
    return pd.DataFrame(rows, columns=["outcome", "factor", "programme", "n_treated", "n_control",
                                       "cap", "columns", "entered", "left_out"])


def planned_terms(plan: Plan, n: dict | None = None, attrition: float | None = None) -> pd.DataFrame:
    """The rule at the plan's ``[design]`` sizes: the cap per programme and the covariates
    that fit if every answer code is used (levels merged in the data can only lower the
    count).

    Parameters
    ----------
    plan : Plan
        Its ``[design]`` n per programme and attrition, covariates and rule.
    n : dict, optional
        Students per programme (the design diagnosis's, overriding the plan's).
    attrition : float, optional
        Share leaving before the outcome (likewise).
    """
    rule = rule_of(plan)
    design = plan.raw.get("design", {})
    attrition = float(design.get("attrition", 0.0)) if attrition is None else float(attrition)
    rows = []
    for prog, n in (design.get("n", {}) if n is None else n).items():
        small = int(np.floor(int(n) * (1 - attrition) / 2))
        cap = int(np.floor(rule["max_terms_share"] * small))
        used, entered, left = 0, [], []
        sizes = [(c, 1) for c in plan.numeric_covariates]
        sizes += [(c, max(1, len(ANSWER_CODES.get(c, ())) - 1)) for c in plan.categorical_covariates]
        for c, k in sizes:
            if used + k <= cap:
                used += k
                entered.append(c)
            else:
                left.append(c)
        rows.append(dict(programme=prog, n_planned=int(n), smaller_arm=small, cap=cap,
                         columns=used, entered=", ".join(entered), left_out=", ".join(left)))
    return pd.DataFrame(rows)


def prereg_lines(plan: Plan) -> list[str]:
    """What the pre-registration says about the rule (Markdown lines).

    Parameters
    ----------
    plan : Plan
        The analysis plan.
    """
    r = rule_of(plan)
    lines = [f"- Covariates in `lin`, per programme: categorical levels held by fewer than "
             f"{r['min_level']} people in either arm merged; at most floor({r['max_terms_share']:g} × smaller arm) "
             "covariate columns, covariates entering whole in the plan's order (numeric first); "
             "the report lists what entered (`lin_covariates.csv`). At the planned sizes:"]
    pt = planned_terms(plan)
    lines[0] += " " + "; ".join(
        f"{row.programme} (smaller arm ≈ {row.smaller_arm}, cap {row.cap}): {row.entered or 'none'}"
        + (f", left out {row.left_out}" if row.left_out else "") for row in pt.itertuples()) + "."
    return lines


def lin_section(cov: pd.DataFrame, table) -> str:
    """The report section (HTML): the covariates that entered Lin's estimator.

    Parameters
    ----------
    cov : DataFrame
        :func:`lin_covariates`' output.
    table : callable
        The report's DataFrame-to-HTML function.
    """
    first = cov.drop_duplicates(["factor", "programme", "entered", "left_out"])
    return "\n".join([
        "<h2>Lin's estimator: covariates that entered</h2>",
        "<p>The plan's rule, per programme: sparse categorical levels merged, at most "
        "floor(share × smaller arm) covariate columns, covariates entering whole in the plan's "
        "order, for each confirmatory main effect (all rows: <code>lin_covariates.csv</code>).</p>",
        table(first),
    ])
