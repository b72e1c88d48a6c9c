"""The seed project's own questions, as report sections.

* Teaching on trust-based management as students see it: ``taught_tbm`` by programme
  (and by site when there is more than one), shares with Wilson 95% intervals, a plot, and a
  check that the answer does not differ by arm (it is asked after the vignette).
* Do future managers react differently? Each effect among management + public
  administration students (taught the trust reforms) minus among nursing + teacher
  students, with its interval; and the effects by ``taught_tbm``. Exploratory,
  Benjamini–Hochberg within each table.
* Realism: mean ``realism`` by arm, and the effect of each factor on it (a vignette judged
  unrealistic in one arm is a confound).

References
----------
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
  inference. JASA 22, 209-212.
"""
from __future__ import annotations


import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from . import estimators as est  # noqa: E402
from .contract import ANSWER_CODES, CELLS, EFFECT_OUTCOMES, EFFECT_PROGRAMMES, FACTORS, PROGRAMMES  # noqa: E402
from .inference import benjamini_hochberg  # noqa: E402
from .plan import Plan  # noqa: E402

#: Programmes taught the trust reforms (future managers) and the comparison group.
FUTURE_MANAGERS = ("management", "public_admin")
PROFESSIONALS = ("nursing", "teacher")
TAUGHT_LEVELS = tuple(ANSWER_CODES["taught_tbm"])


def wilson_interval(count: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for a proportion.

    Parameters
    ----------
    count : int
        Successes.
    n : int
        Trials (NaN interval when 0).
    alpha : float
        1 − coverage.
    """
    if n == 0:
        return np.nan, np.nan
    z = stats.norm.ppf(1 - alpha / 2)
    p = count / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    lo = 0.0 if count == 0 else max(0.0, centre - half)  # exact at 0 and n (no rounding residue)
    hi = 1.0 if count == n else min(1.0, centre + half)
    return float(lo), float(hi)


def _base(tidy: pd.DataFrame) -> pd.DataFrame:
    """Assigned, not withdrawn (every programme: the teaching question is descriptive)."""
    return tidy[tidy["assigned"].fillna(False).astype(bool)
                & ~tidy["withdrawn"].fillna(False).astype(bool)]


def taught_table(tidy: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Distribution of ``taught_tbm`` by programme (and programme × site with > 1 site).

    Parameters
    ----------
    tidy : DataFrame
        The tidy table; everyone assigned and not withdrawn who answered.
    alpha : float
        1 − coverage of the Wilson intervals.

    Returns
    -------
    DataFrame
        programme, site ('all' or a site), answer, count, n, share, ci_low, ci_high.
    """
    d = _base(tidy)
    d = d[d["taught_tbm"].notna()]
    sites = sorted(d["site"].dropna().unique()) if "site" in d else []
    groups = [("all", None)] + ([(s, s) for s in sites] if len(sites) > 1 else [])
    rows = []
    for site_label, site in groups:
        ds = d if site is None else d[d["site"] == site]
        for prog in ("all", *PROGRAMMES):
            dp = ds if prog == "all" else ds[ds["programme"] == prog]
            n = len(dp)
            if n == 0:
                continue
            counts = dp["taught_tbm"].value_counts()
            for level in TAUGHT_LEVELS:
                c = int(counts.get(level, 0))
                lo, hi = wilson_interval(c, n, alpha)
                rows.append(dict(programme=prog, site=site_label, answer=level, count=c, n=n,
                                 share=c / n, ci_low=lo, ci_high=hi))
    return pd.DataFrame(rows, columns=["programme", "site", "answer", "count", "n", "share",
                                       "ci_low", "ci_high"])


def taught_by_arm(tidy: pd.DataFrame, draws: int = 1000, seed: int = 1) -> pd.DataFrame:
    """Does ``taught_tbm`` differ by arm? Pearson chi-square per programme and factor, and
    pooled (the programmes' statistics and df summed: independent strata); beside it
    ``p_value_ri``, the randomisation test of the same question that needs no large-sample
    approximation (Hansen & Bowers' d² of the answer indicators, labels re-randomised
    within the real blocks among those who answered: :func:`analysis.balance_ri.d2_test`).

    Parameters
    ----------
    tidy : DataFrame
        The tidy table.
    draws : int
        Re-randomisations for ``p_value_ri`` (exact enumeration when small).
    seed : int
        Their seed.

    Returns
    -------
    DataFrame
        programme, factor, chi2, df, p_value, p_value_ri, n, note (small expected counts).
    """
    from .balance_ri import WORK_LIMIT, d2_test
    from .effects import block_ids

    d = _base(tidy)
    d = d[d["taught_tbm"].notna() & d["programme"].isin(EFFECT_PROGRAMMES)]
    answers = d["taught_tbm"].astype(object).to_numpy()
    X_all = np.column_stack([(answers == lev).astype(float) for lev in TAUGHT_LEVELS])
    blocks_all = block_ids(d)  # blocks are within session x stratum: subsets keep their ids
    prog_of = d["programme"].astype(object).to_numpy()
    rows = []
    for factor in FACTORS:
        t_all = est.treatment(d, factor)
        arm = d[factor].astype(object).to_numpy()
        tot_chi, tot_df, small = 0.0, 0, False
        for prog in EFFECT_PROGRAMMES:
            sel = prog_of == prog
            row = dict(programme=prog, factor=factor, chi2=np.nan, df=np.nan, p_value=np.nan,
                       p_value_ri=np.nan, n=int(sel.sum()), note="")
            if sel.any():
                row["p_value_ri"] = d2_test(X_all[sel], t_all[sel], blocks_all[sel], draws=draws,
                                            seed=seed + len(rows), work_limit=WORK_LIMIT)["p_value"]
            tab = pd.crosstab(answers[sel], arm[sel]) if sel.any() else pd.DataFrame()
            if tab.shape[0] < 2 or tab.shape[1] < 2:
                row["note"] = "not testable: one answer or one arm only"
            else:
                chi2, p, dof, expected = stats.chi2_contingency(tab.to_numpy(), correction=False)
                row.update(chi2=float(chi2), df=int(dof), p_value=float(p))
                tot_chi += chi2
                tot_df += dof
                if (expected < 5).any():
                    row["note"] = "some expected counts < 5: approximate"
                    small = True
            rows.append(row)
        rows.append(dict(programme="pooled", factor=factor, chi2=tot_chi if tot_df else np.nan,
                         df=tot_df if tot_df else np.nan,
                         p_value=float(stats.chi2.sf(tot_chi, tot_df)) if tot_df else np.nan,
                         p_value_ri=d2_test(X_all, t_all, blocks_all, draws=draws, seed=seed + len(rows),
                                            work_limit=WORK_LIMIT)["p_value"] if len(d) else np.nan,
                         n=len(d), note="sum over programmes" + ("; some expected counts < 5" if small else "")))
    return pd.DataFrame(rows)


def taught_plot(table: pd.DataFrame) -> plt.Figure:
    """Shares of each ``taught_tbm`` answer with Wilson intervals, one panel per programme.

    Parameters
    ----------
    table : DataFrame
        :func:`taught_table`'s output (the ``site = all`` rows are drawn).
    """
    t = table[table["site"] == "all"]
    progs = [p for p in ("all", *PROGRAMMES) if p in set(t.programme)]
    fig, axes = plt.subplots(1, max(1, len(progs)), figsize=(2.4 * max(1, len(progs)), 2.8),
                             sharey=True, squeeze=False)
    for ax, prog in zip(axes[0], progs):
        d = t[t.programme == prog].set_index("answer").reindex(list(TAUGHT_LEVELS))
        x = np.arange(len(TAUGHT_LEVELS))
        ax.bar(x, d["share"], color="#9ecae1")
        ax.errorbar(x, d["share"], yerr=[np.clip(d["share"] - d["ci_low"], 0, None),
                                         np.clip(d["ci_high"] - d["share"], 0, None)],
                    fmt="none", color="#333", capsize=2)
        ax.set_xticks(x, list(TAUGHT_LEVELS), rotation=45, fontsize=7)
        n = int(d["n"].dropna().iloc[0]) if d["n"].notna().any() else 0
        ax.set_title(f"{prog} (n = {n})", fontsize=8)
    axes[0][0].set_ylabel("share (95% Wilson)")
    fig.tight_layout()
    return fig


def _group_effect(d: pd.DataFrame, outcome: str, factor: str, progs) -> tuple | None:
    """Block-weighted effect over ``progs``: (estimate, variance, N, J) or None."""
    parts = []
    for p in progs:
        y1, y0 = est._arms(d[d["programme"] == p], outcome, factor)
        e, se, _ = est.welch(y1, y0)
        if np.isfinite(se) and se > 0:
            parts.append((e, se**2, len(y1) + len(y0)))
    if not parts:
        return None
    N = sum(n for _, _, n in parts)
    w = np.array([n / N for _, _, n in parts])
    e = float((w * np.array([x[0] for x in parts])).sum())
    v = float((w**2 * np.array([x[1] for x in parts])).sum())
    return e, v, N, len(parts)


def future_managers(tidy: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Each effect among future managers minus among nursing + teacher students.

    Both group effects are block-weighted over their programmes (weights: each
    programme's share of its group); the contrast's SE is the root of the summed
    variances (HC2 = Neyman), df N − 2J over the programmes used. Exploratory; BH across
    the rows.

    Parameters
    ----------
    tidy : DataFrame
        The tidy table.
    plan : Plan
        For alpha.
    """
    d = est.analysis_sample(tidy)
    rows = []
    for outcome in EFFECT_OUTCOMES:
        for factor in FACTORS:
            a = _group_effect(d, outcome, factor, FUTURE_MANAGERS)
            b = _group_effect(d, outcome, factor, PROFESSIONALS)
            row = dict(outcome=outcome, factor=factor, effect_future_managers=np.nan,
                       effect_professionals=np.nan, estimate=np.nan, std_error=np.nan, df=np.nan,
                       ci_low=np.nan, ci_high=np.nan, p_value=np.nan, note="")
            if a is None or b is None:
                row["note"] = "not estimable: a group has no programme with both arms"
            else:
                e, se, dof = a[0] - b[0], np.sqrt(a[1] + b[1]), a[2] + b[2] - 2 * (a[3] + b[3])
                lo, hi, p = (float(x) for x in est.t_inference(e, se, dof, plan.alpha))
                row.update(effect_future_managers=a[0], effect_professionals=b[0], estimate=e,
                           std_error=se, df=dof, ci_low=lo, ci_high=hi, p_value=p)
            rows.append(row)
    out = pd.DataFrame(rows)
    out.insert(out.columns.get_loc("p_value") + 1, "p_adjusted",
               benjamini_hochberg(out["p_value"].to_numpy()))
    out.insert(out.columns.get_loc("p_adjusted") + 1, "adjustment", "bh (exploratory)")
    return out


def by_taught(tidy: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Block-weighted effects within each ``taught_tbm`` answer. Exploratory, BH.

    Parameters
    ----------
    tidy : DataFrame
        The tidy table.
    plan : Plan
        For alpha.
    """
    d = est.analysis_sample(tidy)
    frames = []
    for level in TAUGHT_LEVELS:
        sub = d[d["taught_tbm"] == level]
        for outcome in EFFECT_OUTCOMES:
            for factor in FACTORS:
                frames.append(est.block_weighted(sub, outcome, factor, alpha=plan.alpha)
                              .assign(taught_tbm=level))
    out = pd.concat(frames, ignore_index=True)
    out["estimator"] = "block_weighted"
    out["p_adjusted"] = benjamini_hochberg(out["p_value"].to_numpy())
    out["adjustment"] = "bh (exploratory)"
    return out[["taught_tbm", *[c for c in out.columns if c != "taught_tbm"]]]


def realism_table(tidy: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Mean ``realism`` (1-7) by cell and by arm of each factor, t intervals; then the
    block-weighted effect of each factor on realism.

    Parameters
    ----------
    tidy : DataFrame
        The tidy table (intention-to-treat sample).
    plan : Plan
        For alpha.
    """
    d = est.analysis_sample(tidy)
    d = d[d["realism"].notna()]
    rows = []

    def add(label_m, label_p, y):
        y = np.asarray(y, dtype=float)
        n = len(y)
        m = y.mean() if n else np.nan
        se = y.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
        crit = stats.t.ppf(1 - plan.alpha / 2, n - 1) if n > 1 else np.nan
        rows.append(dict(kind="mean", manager=label_m, partner=label_p, n=n, estimate=m,
                         std_error=se, ci_low=m - crit * se, ci_high=m + crit * se, p_value=np.nan,
                         note=""))
    for m, p in CELLS:
        add(m, p, d.loc[(d["manager"] == m) & (d["partner"] == p), "realism"])
    for factor, (treated, control) in FACTORS.items():
        for arm in (treated, control):
            add(arm if factor == "manager" else "all", arm if factor == "partner" else "all",
                d.loc[d[factor] == arm, "realism"])
    for factor, (treated, control) in FACTORS.items():
        r = est.block_weighted(d, "realism", factor, alpha=plan.alpha).iloc[0]
        rows.append(dict(kind=f"effect of {factor} ({treated} − {control}), block-weighted",
                         manager="", partner="", n=int(r.n_treated + r.n_control),
                         estimate=r.estimate, std_error=r.std_error, ci_low=r.ci_low,
                         ci_high=r.ci_high, p_value=r.p_value, note=r.note))
    return pd.DataFrame(rows)


def questions_tables(tidy: pd.DataFrame, plan: Plan) -> dict[str, pd.DataFrame]:
    """Every table of this module, by CSV name.

    Parameters
    ----------
    tidy : DataFrame
        The tidy table.
    plan : Plan
        The analysis plan (alpha).
    """
    return dict(taught_tbm=taught_table(tidy, plan.alpha), taught_tbm_by_arm=taught_by_arm(tidy),
                future_managers=future_managers(tidy, plan), effects_by_taught_tbm=by_taught(tidy, plan),
                realism=realism_table(tidy, plan))


def questions_section(t: dict[str, pd.DataFrame], table, png) -> str:
    """The report sections (HTML).

    Parameters
    ----------
    t : dict
        :func:`questions_tables`' output.
    table : callable
        The report's DataFrame-to-HTML function.
    png : callable
        The report's figure-to-<img> function.
    """
    taught = t["taught_tbm"]
    arm = t["taught_tbm_by_arm"]
    pooled_arm = arm[arm.programme == "pooled"]
    warn = ""
    if not pooled_arm.empty and (pooled_arm.p_value_ri < 0.05).any():
        warn = ("<p><b>The answer differs by arm (p &lt; 0.05)</b>: the vignette may have changed "
                "how students report their teaching; read the effects by <code>taught_tbm</code> "
                "with that in mind.</p>")
    by = t["effects_by_taught_tbm"]
    return "\n".join([
        "<h2>Teaching on trust-based management, as students see it</h2>",
        "<p>Share of each answer to <code>taught_tbm</code> by programme (everyone assigned "
        "and not withdrawn who answered; <code>site = all</code>, and by site when the data "
        "hold more than one), Wilson 95% intervals. The question is asked after the vignette, "
        "so the answer could depend on the arm: the tests below check that it does not (per "
        "programme and pooled; Pearson chi-square, and <code>p_value_ri</code>, a "
        "randomisation test within the real blocks that small counts do not invalidate).</p>",
        png(taught_plot(taught)) if not taught.empty else "<p><em>no answers</em></p>",
        table(taught),
        table(arm), warn,
        "<h2>Do future managers react differently? (exploratory)</h2>",
        "<p>Each effect among management + public administration students (taught the "
        "trust reforms) minus the effect among nursing + teacher students; each group's "
        "effect is block-weighted over its programmes, SE from the Neyman (HC2) variances, "
        "df N − 2J; Benjamini–Hochberg across the rows.</p>",
        table(t["future_managers"]),
        "<h3>Effects by answer to <code>taught_tbm</code> (exploratory, BH)</h3>",
        "<p>Block-weighted effects within each answer. <code>taught_tbm</code> is measured "
        "after treatment: these are descriptive subgroups, causal only if the answer does not "
        "depend on the arm (check above).</p>",
        table(by[["taught_tbm", "outcome", "factor", "estimate", "std_error", "df", "ci_low",
                  "ci_high", "p_value", "p_adjusted", "n_treated", "n_control", "note"]]),
        "<h2>Realism of the vignette by arm</h2>",
        "<p>Mean <code>realism</code> (1–7) by cell and by arm with t intervals, and the "
        "block-weighted effect of each factor on it: a vignette judged less realistic in one "
        "arm would be a confound.</p>",
        table(t["realism"]),
    ])
