"""The report: every table as CSV plus one self-contained ``report.html``
(figures embedded as base64 PNG; nothing is loaded from other hosts).
"""
from __future__ import annotations

import hashlib
import html
import platform
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from . import codebook as cbk
from . import effects as E
from . import registry
from .contract import EFFECT_OUTCOMES, EFFECT_PROGRAMMES, FACTORS, INTERACTION, PROGRAMMES
from .htmlparts import CSS, plt, png as _png, table as _table  # noqa: F401  (CSS: older imports)
from .load import shown_path, tidy_from_exports, write_tidy
from .measurement import balance, flow, reliability
from .plan import Plan
from .prereg import deviations_table
from .privacy import privacy_notes
from . import balance_ri as BR, bounds as B, languages as L, lin_rule as LR, questions as Q, sessions as S  # noqa: E501  (issue 11)


def sha256_file(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, as hex.

    Parameters
    ----------
    path : path
        The file.
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def coefficient_plot(effects: pd.DataFrame, plan: Plan, sesoi: dict[str, float] | None = None
                     ) -> plt.Figure:
    """Confirmatory effects by programme and pooled, 95% intervals, equivalence band.

    Parameters
    ----------
    effects : DataFrame
        The effects table.
    plan : Plan
        The confirmatory pairs and the primary estimators.
    sesoi : dict, optional
        Outcome -> SESOI in scale points (the shaded band).
    """
    sesoi = sesoi or {}
    pairs = [(o, f) for _, o, f in plan.confirmatory] or [(o, "manager") for o in EFFECT_OUTCOMES]
    fig, axes = plt.subplots(1, len(pairs), figsize=(3.2 * len(pairs), 3.4), sharey=True,
                             squeeze=False)
    labels = [*EFFECT_PROGRAMMES, "pooled"]
    for ax, (outcome, factor) in zip(axes[0], pairs):
        b = sesoi.get(outcome, np.nan)
        if np.isfinite(b):
            ax.axvspan(-b, b, color="#dfe9f3", label=f"SESOI ±{plan.sesoi_sd:g} SD")
        ax.axvline(0, color="#555", lw=0.8)
        for i, prog in enumerate(labels):
            estimator = plan.primary_estimator(prog, factor)
            r = effects[(effects.outcome == outcome) & (effects.factor == factor)
                        & (effects.programme == prog) & (effects.estimator == estimator)]
            if r.empty or not np.isfinite(r.estimate.iloc[0]):
                ax.text(0, i, "not estimable", ha="center", va="center", fontsize=7)
                continue
            r = r.iloc[0]
            colour = "#b2182b" if prog == "pooled" else "#2166ac"
            ax.plot([r.ci_low, r.ci_high], [i, i], color=colour, lw=2)
            ax.plot(r.estimate, i, "o" if prog != "pooled" else "D", color=colour)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_title(f"{outcome}\n{factor} ({'trust - control' if factor == 'manager' else 'other - same'})",
                     fontsize=9)
        ax.set_xlabel("effect (scale points), 95% CI")
    axes[0][0].invert_yaxis()  # shared y axis: invert once, programmes top to bottom
    fig.legend(*axes[0][0].get_legend_handles_labels(), loc="lower center", fontsize=8,
               frameon=False, bbox_to_anchor=(0.5, -0.06))
    fig.tight_layout()
    return fig


def cell_means_plot(cm: pd.DataFrame) -> plt.Figure:
    """Cell means (95% CI) per programme: partner on the x axis, one line per manager arm.

    Parameters
    ----------
    cm : DataFrame
        Cell means (:func:`analysis.effects.cell_means`).
    """
    progs = [p for p in PROGRAMMES if p in set(cm.programme)]
    fig, axes = plt.subplots(len(EFFECT_OUTCOMES), max(1, len(progs)),
                             figsize=(2.6 * max(1, len(progs)), 2.2 * len(EFFECT_OUTCOMES)),
                             sharey=True, squeeze=False)
    for i, outcome in enumerate(EFFECT_OUTCOMES):
        for j, prog in enumerate(progs):
            ax = axes[i][j]
            for m, colour, dx in (("trust", "#1b7837", -0.04), ("control", "#762a83", 0.04)):
                d = cm[(cm.programme == prog) & (cm.outcome == outcome) & (cm.manager == m)]
                d = d.set_index("partner").reindex(["same", "other"])
                x = np.array([0, 1]) + dx
                ax.errorbar(x, d["mean"], yerr=[d["mean"] - d.ci_low, d.ci_high - d["mean"]],
                            marker="o", color=colour, label=m, capsize=2)
            ax.set_xticks([0, 1], ["same", "other"])
            if i == 0:
                ax.set_title(prog, fontsize=9)
            if j == 0:
                ax.set_ylabel(outcome, fontsize=9)
    if axes[0][0].get_legend_handles_labels()[0]:
        axes[0][0].legend(fontsize=7, frameon=False, title="manager", title_fontsize=7)
    fig.tight_layout()
    return fig


def flow_plot(fl: pd.DataFrame) -> plt.Figure:
    """A CONSORT-style diagram: boxes from opening the link to completing.

    Parameters
    ----------
    fl : DataFrame
        The flow table (:func:`analysis.measurement.flow`).
    """
    top = fl[fl.programme == "all"].iloc[0]
    progs = fl[(fl.programme != "all") & (fl.manager == "all arms")]
    fig, ax = plt.subplots(figsize=(max(8, 2.9 * len(progs)), 4.8))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)

    def box(x, y, text, w=0.2):
        return ax.text(x, y, text, ha="center", va="center", fontsize=7.5,
                       bbox=dict(boxstyle="round", fc="#f4f4f4", ec="#444"))

    def arrow_to(target, x0, y0):  # from a point of the main column to a side box's left edge
        ax.annotate("", xy=(0, 0.5), xycoords=target, xytext=(x0, y0), textcoords="data",
                    arrowprops=dict(arrowstyle="->", color="#444", shrinkB=4))

    def arrow(x0, y0, x1, y1):
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops=dict(arrowstyle="->", color="#444"))
    box(0.5, 0.93, f"Opened the link: {int(top.opened)}")
    declined = box(0.85, 0.8, f"Declined / no consent: {int(top.opened - top.consented - top.withdrawn)}\n"
                              f"Withdrew later: {int(top.withdrawn)}")
    arrow(0.5, 0.89, 0.5, 0.77)
    arrow_to(declined, 0.5, 0.8)
    box(0.5, 0.72, f"Consented: {int(top.consented)}")
    left = box(0.85, 0.6, f"Left before assignment: {int(top.consented - top.assigned)}")
    arrow(0.5, 0.68, 0.5, 0.56)
    arrow_to(left, 0.5, 0.6)
    box(0.5, 0.52, f"Assigned (stratified permuted blocks): {int(top.assigned)}")
    n = max(1, len(progs))
    for k, r in enumerate(progs.itertuples()):
        x = (k + 0.5) / n
        arrow(0.5, 0.48, x, 0.36)
        cells = fl[(fl.programme == r.programme) & (fl.manager != "all arms")]
        lines = [f"{c.manager}/{c.partner}: {int(c.assigned)} → {int(c.completed)}"
                 for c in cells.itertuples()]
        p = f"p = {r.attrition_p:.2f}" if np.isfinite(r.attrition_p) else "p = n/a"
        box(x, 0.17, f"{r.programme}\nassigned {int(r.assigned)}, completed {int(r.completed)}\n"
                     + "\n".join(lines) + f"\nattrition by arm: {p}")
    return fig


def run_report(inputs: Sequence[str | Path], out_dir: str | Path, plan: Plan,
               withdrawals: str | Path | None = None,
               progress: Callable[[str], None] | None = None, include_bots: bool = False,
               registered: str | Path | None = None, coarsen: bool = False,
               command: str = "python -m analysis report") -> dict[str, Path]:
    """Load, estimate and write every output; returns the written paths by name.

    Parameters
    ----------
    inputs : paths
        oTree exports (wide or custom) or a tidy CSV, several at once.
    out_dir : path
        Created if missing; existing files of the same names are replaced.
    plan : Plan
        The analysis plan (named in the report footer with its SHA-256).
    withdrawals : path, optional
        Debrief codes of withdrawn participants, one per line.
    progress : callable, optional
        Receives one line per step.
    include_bots : bool
        Keep bot rows (dry runs only).
    registered : path, optional
        The registered ``prereg.md`` or plan; differences are listed as deviations.
    coarsen : bool
        Coarsen small cells for privacy before writing tidy data.
    command : str
        The command that made the report, named in its footer.

    Files are named in the report by `load.shown_path` (relative to the current folder
    or by name alone), never by an absolute path.
    """
    say = progress or (lambda msg: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    steps = 8
    t0 = time.perf_counter()
    notes: list[str] = []
    say(f"[1/{steps}] reading {len(inputs)} input file(s)")
    tidy = tidy_from_exports(inputs, withdrawals, notes, include_bots=include_bots)
    tidy, privacy = privacy_notes(tidy, coarsen)
    notes += privacy
    for n in privacy:
        say(f"      {n}")
    paths: dict[str, Path] = {}
    paths["tidy"] = out / "tidy.csv"
    write_tidy(tidy, paths["tidy"])
    say(f"[2/{steps}] codebook and Stata file")
    instrument = cbk.load_instrument()
    cb = cbk.build_codebook(tidy, instrument)
    paths["codebook_csv"], paths["codebook_md"] = cbk.write_codebook(cb, out)
    paths["stata"] = cbk.write_stata(tidy, out / "tidy.dta", instrument)
    say(f"[3/{steps}] effects ({len(tidy)} participants)")
    tables = estimate_tables(tidy, plan, say)
    say(f"[6/{steps}] writing tables")
    tables["deviations"] = deviations_table(plan, tables["effects"], tables["randomisation_inference"],
                                            notes, registered)
    for name, df in tables.items():
        paths[name] = out / f"{name}.csv"
        df.to_csv(paths[name], index=False)
    say(f"[7/{steps}] figures")
    figs = make_figures(tables, plan)
    say(f"[8/{steps}] report.html")
    hashes = {shown_path(p): sha256_file(p) for p in inputs}
    hashes["tidy.csv (this run)"] = sha256_file(paths["tidy"])
    paths["report"] = out / "report.html"
    reg = None
    if registered is not None:
        hashes[f"registered plan {shown_path(registered)}"] = sha256_file(registered)
        reg = shown_path(registered)
    ctx = dict(t=tables, figs=figs, plan=plan, hashes=hashes, notes=notes, n=len(tidy),
               registered=reg, command=command)
    paths["report"].write_text(render_html(ctx), encoding="utf-8")
    say(f"done in {time.perf_counter() - t0:.1f} s: {out}")
    return paths


def estimate_tables(tidy: pd.DataFrame, plan: Plan, say: Callable[[str], None] = lambda m: None
                    ) -> dict[str, pd.DataFrame]:
    """Every table of the report (CSV name -> DataFrame), deviations aside.

    Parameters
    ----------
    tidy : DataFrame
        The tidy table.
    plan : Plan
        The analysis plan.
    say : callable
        Progress lines.
    """
    eff = E.estimate_effects(tidy, plan)
    het = E.heterogeneity_table(tidy)
    ses = E.sesoi_table(tidy, plan)
    eq = E.equivalence_table(eff, plan, ses)
    eff, het = S.add_session_rows(eff, tidy, plan), S.add_session_heterogeneity(het, tidy, plan)  # issue 11, item 5
    say("[4/8] randomisation inference")
    ri = E.ri_table(tidy, eff, plan, progress=lambda m: say(f"      {m}"))
    say("[5/8] flow, balance, reliability, checks")
    return dict(effects=eff, heterogeneity=het, sesoi=ses, equivalence=eq,
                randomisation_inference=ri, flow=flow(tidy),
                balance=BR.add_randomisation_omnibus(  # issue 11, item 7
                    balance(tidy, plan.numeric_covariates, plan.categorical_covariates), tidy, plan),
                reliability=reliability(tidy, 1 - plan.alpha),
                sensitivity=E.sensitivity_table(tidy, plan), cell_means=E.cell_means(tidy, plan.alpha),
                checks=E.checks_table(tidy, eff, plan), by_version=E.by_version_table(tidy, plan),
                bounds=B.bounds_table(tidy, plan), **Q.questions_tables(tidy, plan),  # issue 11, items 4-9
                reliability_by_language=L.reliability_by_language(tidy, 1 - plan.alpha),
                items_by_language=L.item_means_by_language(tidy),
                invariance_by_language=L.invariance_by_language(tidy), lin_covariates=LR.lin_covariates(tidy, plan))


def make_figures(tables: dict[str, pd.DataFrame], plan: Plan) -> dict[str, str]:
    """The report's figures as embedded ``<img>`` tags, by name.

    Parameters
    ----------
    tables : dict
        :func:`estimate_tables` output.
    plan : Plan
        The analysis plan.
    """
    ses = tables["sesoi"]
    return dict(coef=_png(coefficient_plot(tables["effects"], plan,
                                           dict(zip(ses.outcome, ses.sesoi_points)))),
                cells=_png(cell_means_plot(tables["cell_means"])),
                flow=_png(flow_plot(tables["flow"])))


def _versions() -> str:
    import importlib.metadata as md
    pkgs = ["numpy", "pandas", "scipy", "statsmodels", "matplotlib", "pingouin", "semopy"]
    parts = [f"Python {platform.python_version()}"]
    for p in pkgs:
        try:
            parts.append(f"{p} {md.version(p)}")
        except md.PackageNotFoundError:
            pass
    return ", ".join(parts)


# ---------------------------------------------------------------- report sections
# Each section is a function of the context (tables ``t``, figures ``figs``, ``plan``,
# ``notes``, ``hashes``, ``n``, ``registered``) returning HTML; :data:`SECTIONS` is the
# order on the page. A new section is one function and one entry.
e = html.escape


def _sesoi_words(ses: pd.DataFrame, plan: Plan) -> str:
    parts = [f"{r.outcome} {r.sesoi_points:.2f}" for r in ses.itertuples() if np.isfinite(r.sesoi_points)]
    return (f"The smallest effect of interest is {plan.sesoi_sd:g} outcome SDs (the plan's "
            "<code>sesoi_sd</code>), converted to scale points with each outcome's observed pooled "
            f"within-cell SD (programme × cell): {e('; '.join(parts)) or 'not estimable'}.")


def section_title(ctx: dict) -> str:
    """The report's title and opening paragraph (plan, rows, estimand), as HTML.

    Parameters
    ----------
    ctx : dict
        What the report computed (tables, figures, the plan, notes), built by
        :func:`run_report`.
    """
    plan = ctx["plan"]
    return ("<h1>Trust-based management and interprofessional collaboration: analysis report</h1>"
            f"<p>Plan: <b>{e(plan.name)}</b> ({e(Path(plan.path).name)}). {ctx['n']} participant rows. "
            "Effects are intention-to-treat among assigned participants with the outcome observed; "
            "the programme <code>other</code> is reported descriptively only. "
            + e(next((x for x in ctx["notes"] if x.startswith("instrument versions")), "")) + ".</p>")


def section_confirmatory(ctx: dict) -> str:
    """The confirmatory results: the plan's hypotheses with their pooled estimates, as HTML.

    Parameters
    ----------
    ctx : dict
        What the report computed (tables, figures, the plan, notes), built by
        :func:`run_report`.
    """
    t, plan = ctx["t"], ctx["plan"]
    eff = t["effects"]
    ri = t["randomisation_inference"]
    ri_cols = ["outcome", "factor", "programme", "p_value_ri", "null"]
    conf = eff[eff.adjustment == "holm"].merge(
        ri[ri_cols] if not ri.empty else pd.DataFrame(columns=ri_cols),
        on=["outcome", "factor", "programme"], how="left")
    eqc = t["equivalence"]
    conf = conf.merge(eqc[["outcome", "factor", "programme", "estimator", "sesoi", "p_tost"]],
                      on=["outcome", "factor", "programme", "estimator"], how="left")
    hyp = {(o, f): h for h, o, f in plan.confirmatory}
    conf.insert(0, "hypothesis", [hyp.get((o, f), "") for o, f in zip(conf.outcome, conf.factor)])
    cols = ["hypothesis", "outcome", "factor", "estimator", "estimate", "std_error", "df",
            "ci_low", "ci_high", "p_value", "p_adjusted", "p_value_ri", "sesoi", "p_tost",
            "n_treated", "n_control", "note"]
    pairs = {(o, f) for _, o, f in plan.confirmatory}
    rob = eff[(eff.adjustment == E.ROBUSTNESS_ADJUSTMENT) & (eff.programme == registry.POOLED)
              & np.array([(o, f) in pairs for o, f in zip(eff.outcome, eff.factor)], dtype=bool)]
    nulls = "".join(f"<li><code>{e(f)}</code>: {e(E.ri_null(f))}</li>" for f in FACTORS)
    primary = plan.primary_estimator(registry.POOLED)
    return "".join([
        "<h2>Confirmatory hypotheses</h2>",
        f"<p>Pooled <code>{e(primary)}</code> effects ({e(registry.get(primary).description)}); "
        "<code>p_adjusted</code> is Holm across the family (one row per hypothesis and outcome: the "
        f"primary estimator's); <code>p_value_ri</code> from randomisation inference ({plan.ri_draws} "
        "draws or exact enumeration); <code>p_tost</code> is the equivalence test against "
        "±<code>sesoi</code> scale points. " + _sesoi_words(t["sesoi"], plan) + "</p>",
        _table(conf[cols]),
        "<p class='note'>What each randomisation p-value tests:</p><ul class='note'>" + nulls + "</ul>",
        "<h3>Robustness rows of the confirmatory hypotheses (not adjusted, not in the family)</h3>",
        _table(rob[["outcome", "factor", "estimator", "estimate", "std_error", "ci_low", "ci_high",
                    "p_value", "adjustment", "note"]]),
        "<h3>Effects by programme (95% intervals, shaded: equivalence band)</h3>", ctx["figs"]["coef"],
        "<h3>Cell means by programme</h3>", ctx["figs"]["cells"],
    ])


def section_notes(ctx: dict) -> str:
    """What the loader changed (bots, withdrawals, coarsening), as HTML.

    Parameters
    ----------
    ctx : dict
        What the report computed (tables, figures, the plan, notes), built by
        :func:`run_report`.
    """
    return ("<h2>Data notes</h2><ul>" + "".join(f"<li>{e(x)}</li>" for x in ctx["notes"]) + "</ul>")


def section_deviations(ctx: dict) -> str:
    """Deviations from the registered plan, as HTML.

    Parameters
    ----------
    ctx : dict
        What the report computed (tables, figures, the plan, notes), built by
        :func:`run_report`.
    """
    return _deviations_html(ctx["t"]["deviations"], ctx["registered"], ctx["t"]["effects"])


def section_versions(ctx: dict) -> str:
    """Input files, plan and instrument versions with their SHA-256, as HTML.

    Parameters
    ----------
    ctx : dict
        What the report computed (tables, figures, the plan, notes), built by
        :func:`run_report`.
    """
    bv = ctx["t"]["by_version"]
    if bv.empty or bv.instrument_version.nunique() < 2:
        return ""
    return ("<h2>By instrument version</h2><p>The data mix instrument versions; the confirmatory "
            "effects among each version's participants (<code>by_version.csv</code>). Columns an "
            "older version did not have are empty for its participants.</p>" + _table(bv))


def section_flow(ctx: dict) -> str:
    """The participant flow (CONSORT-style diagram and table), as HTML.

    Parameters
    ----------
    ctx : dict
        What the report computed (tables, figures, the plan, notes), built by
        :func:`run_report`.
    """
    return "<h2>Flow of participants</h2>" + ctx["figs"]["flow"] + _table(ctx["t"]["flow"])


def section_by_programme(ctx: dict) -> str:
    """Effects per programme, as HTML.

    Parameters
    ----------
    ctx : dict
        What the report computed (tables, figures, the plan, notes), built by
        :func:`run_report`.
    """
    eff = ctx["t"]["effects"]
    by_prog = eff[(eff.programme != registry.POOLED) & (eff.adjustment == "bh")
                  & eff.factor.isin(list(FACTORS))]
    return ("<h2>Effects by programme (exploratory, Benjamini–Hochberg over the primary rows)</h2>"
            + _table(by_prog[["outcome", "factor", "programme", "estimator", "estimate", "std_error",
                              "df", "ci_low", "ci_high", "p_value", "p_adjusted", "hedges_g",
                              "g_ci_low", "g_ci_high", "n_treated", "n_control", "note"]]))


def section_interaction(ctx: dict) -> str:
    """The manager x partner interaction, as HTML.

    Parameters
    ----------
    ctx : dict
        What the report computed (tables, figures, the plan, notes), built by
        :func:`run_report`.
    """
    eff = ctx["t"]["effects"]
    inter = eff[(eff.factor == INTERACTION) & (eff.adjustment != E.CHECK_ADJUSTMENT)]
    return ("<h2>H3: manager × partner interaction (exploratory)</h2>"
            + _table(inter[["outcome", "programme", "estimator", "estimate", "std_error", "df",
                            "ci_low", "ci_high", "p_value", "p_adjusted", "adjustment", "note"]]))


def section_heterogeneity(ctx: dict) -> str:
    """Treatment x programme heterogeneity tests, as HTML.

    Parameters
    ----------
    ctx : dict
        What the report computed (tables, figures, the plan, notes), built by
        :func:`run_report`.
    """
    return ("<h2>Heterogeneity across programmes (HC2 Wald F = Cochran's Q / (J − 1))</h2>"
            + _table(ctx["t"]["heterogeneity"]))


def section_checks(ctx: dict) -> str:
    """Attention and manipulation checks by arm, as HTML.

    Parameters
    ----------
    ctx : dict
        What the report computed (tables, figures, the plan, notes), built by
        :func:`run_report`.
    """
    t = ctx["t"]
    eff = t["effects"]
    chk = t["checks"]
    mc = eff[eff.outcome.str.startswith("mc_")]
    return "".join([
        "<h2>Manipulation checks: was the manager factor perceived?</h2>",
        "<p>Perceived autonomy is a check of the manager factor (the trust text describes "
        "autonomy, so it is no outcome of H1): the manager effect on it, then the share passing "
        "each check by arm (Wilson 95% intervals; <code>checks.csv</code>).</p>",
        _table(chk), "<h3>Checks analysed as outcomes (share choosing the treated arm's option)</h3>",
        _table(mc[["outcome", "factor", "programme", "estimator", "estimate", "ci_low", "ci_high",
                   "p_value", "n_treated", "n_control"]]),
    ])


def section_sensitivity(ctx: dict) -> str:
    """Effects re-estimated excluding those who failed a check, as HTML.

    Parameters
    ----------
    ctx : dict
        What the report computed (tables, figures, the plan, notes), built by
        :func:`run_report`.
    """
    sens = ctx["t"]["sensitivity"]
    return ("<h2>Sensitivity: excluding people who failed a check (not the main analysis)</h2>"
            + _table(sens[["sample", "outcome", "factor", "programme", "estimator", "estimate",
                           "ci_low", "ci_high", "p_value", "n_treated", "n_control"]]
                     if not sens.empty else sens))


def section_balance(ctx: dict) -> str:
    """Balance of the pre-treatment covariates by arm, as HTML.

    Parameters
    ----------
    ctx : dict
        What the report computed (tables, figures, the plan, notes), built by
        :func:`run_report`.
    """
    bal = ctx["t"]["balance"]
    bal_omni = bal[bal.covariate == "omnibus"]
    items = bal[bal.covariate != "omnibus"].assign(abs_std_diff=lambda d: d.std_diff.abs())
    items = items[np.isfinite(items.abs_std_diff)]
    worst = (items.sort_values("abs_std_diff", ascending=False, kind="stable")
             .drop_duplicates(["programme", "factor"])
             .sort_values(["programme", "factor"], kind="stable"))
    return "".join([
        "<h2>Balance of pre-treatment covariates: the large-sample check</h2>",
        "<p>Omnibus HC2 Wald F of assignment on the covariates, for comparison with other "
        "studies. With sparse categories (a few students in a level) it rejects far more "
        "often than its nominal level even when the randomisation worked; the randomisation "
        "test above is the one to read. Full table in <code>balance.csv</code>.</p>",
        _table(bal_omni[["programme", "factor", "level", "statistic", "df1", "df2", "p_value", "note"]]),
        "<p>The largest absolute standardised difference per programme and factor, and the "
        "covariate (and level) it belongs to:</p>",
        _table(worst[["programme", "factor", "covariate", "level", "mean_treated", "mean_control",
                      "std_diff", "abs_std_diff"]]),
    ])


def section_reliability(ctx: dict) -> str:
    """Reliability of the scales (alpha, omega), as HTML.

    Parameters
    ----------
    ctx : dict
        What the report computed (tables, figures, the plan, notes), built by
        :func:`run_report`.
    """
    return "<h2>Reliability</h2>" + _table(ctx["t"]["reliability"])


def section_all_effects(ctx: dict) -> str:
    """Every effects row, as HTML.

    Parameters
    ----------
    ctx : dict
        What the report computed (tables, figures, the plan, notes), built by
        :func:`run_report`.
    """
    eff = ctx["t"]["effects"]
    return ("<h2>All effects</h2><details><summary>effects.csv "
            f"({len(eff)} rows)</summary>" + _table(eff) + "</details>")


def section_footer(ctx: dict) -> str:
    """The report's footer (plan, software versions, time), as HTML.

    Parameters
    ----------
    ctx : dict
        What the report computed (tables, figures, the plan, notes), built by
        :func:`run_report`.
    """
    plan = ctx["plan"]
    return ("<footer><p><b>Plan</b>: " + e(plan.name) + " — " + e(shown_path(plan.path)) + " — SHA-256 "
            + plan.sha256 + "</p><p><b>Data SHA-256</b>:<br>"
            + "<br>".join(f"{e(k)}: {v}" for k, v in ctx["hashes"].items()) + "</p>"
            + f"<p><b>Software</b>: {e(_versions())}</p>"
            + f"<p>Generated {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())} by "
            f"<code>{e(ctx.get('command') or 'python -m analysis report')}</code>.</p></footer>")


# issue 11, items 4-9: the sections of the new modules, each beside the one it belongs to.
def section_bounds(ctx: dict) -> str:
    """Issue 11: Lee bounds beside the flow's attrition test.

    Parameters
    ----------
    ctx : dict
        The report context (:func:`render_html`).
    """
    return B.bounds_section(ctx["t"]["bounds"], _table, ctx["plan"])


def section_sessions(ctx: dict) -> str:
    """Issue 11: session fixed effects and the across-sessions F test.

    Parameters
    ----------
    ctx : dict
        The report context (:func:`render_html`).
    """
    return S.sessions_section(ctx["t"]["effects"], ctx["t"]["heterogeneity"], _table)


def section_balance_ri(ctx: dict) -> str:
    """Issue 11: the randomisation omnibus balance test.

    Parameters
    ----------
    ctx : dict
        The report context (:func:`render_html`).
    """
    return BR.balance_section(ctx["t"]["balance"], _table)


def section_languages(ctx: dict) -> str:
    """Issue 11: reliability, item means and measurement invariance by language.

    Parameters
    ----------
    ctx : dict
        The report context (:func:`render_html`).
    """
    t = ctx["t"]
    return L.languages_section(t["reliability_by_language"], t["items_by_language"], _table,
                               t.get("invariance_by_language"))


def section_questions(ctx: dict) -> str:
    """Issue 11: the seed's questions: taught_tbm, future managers, realism.

    Parameters
    ----------
    ctx : dict
        The report context (:func:`render_html`).
    """
    return Q.questions_section(ctx["t"], _table, _png)


def section_lin(ctx: dict) -> str:
    """Issue 11: the covariates that entered Lin's estimator.

    Parameters
    ----------
    ctx : dict
        The report context (:func:`render_html`).
    """
    return LR.lin_section(ctx["t"]["lin_covariates"], _table)


#: The report's sections, top to bottom: it opens with the confirmatory results.
SECTIONS: list[Callable[[dict], str]] = [
    section_title, section_confirmatory, section_deviations, section_notes, section_versions,
    section_flow, section_bounds, section_by_programme, section_interaction, section_heterogeneity,
    section_sessions, section_checks, section_sensitivity, section_balance_ri, section_balance,
    section_reliability, section_languages, section_questions, section_lin,
    section_all_effects, section_footer,
]


def render_html(ctx: dict) -> str:
    """The whole ``report.html`` from the context of :func:`run_report`.

    Parameters
    ----------
    ctx : dict
        Tables ``t``, figures ``figs``, ``plan``, ``notes``, ``hashes``, ``n`` and
        ``registered`` (path of the registered plan, or None).
    """
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>Analysis report</title><style>{CSS}</style></head><body>"
            + "\n".join(f(ctx) for f in SECTIONS) + "</body></html>")


def _deviations_html(dev: pd.DataFrame, registered: str | None, effects: pd.DataFrame | None = None
                     ) -> str:
    plan_rows = dev[dev.kind == "plan"]
    other = dev[dev.kind != "plan"]
    if registered is None:
        head = ("<p>No registered plan was given (<code>--registered prereg.md</code>); only "
                "data-driven deviations are listed.</p>")
    elif plan_rows.empty:
        head = f"<p>The plan used is the registered plan ({e(registered)}): no differences.</p>"
    else:
        head = (f"<p><b>{len(plan_rows)} difference(s) from the registered plan</b> "
                f"({e(registered)}):</p>" + _table(plan_rows))
    body = (f"<p>{len(other)} data-driven deviation(s): confirmatory or exploratory rows not "
            "estimable as planned, programmes left out of a pooled estimate, covariates dropped, "
            "data changed by the loader.</p>" + (_table(other) if len(other) else ""))
    if effects is not None and "adjustment" in effects:
        rob = effects[(effects.adjustment == E.ROBUSTNESS_ADJUSTMENT)
                      & effects.note.fillna("").astype(str).str.startswith("not estimable")]
        if len(rob):
            body += (f"<p class='note'>{len(rob)} planned robustness row(s) could not be estimated "
                     "(e.g. Lin's estimator with too few people for its covariates); the reason is "
                     "in each row's <code>note</code> (<code>effects.csv</code>). They are not "
                     "deviations: robustness rows are not part of any family.</p>")
    return "<h2>Deviations from the registered plan</h2>" + head + body
