"""The report: every table as CSV plus one self-contained ``report.html``
(figures embedded as base64 PNG; nothing is loaded from other hosts).
"""
from __future__ import annotations

import base64
import hashlib
import html
import io
import platform
import time
from pathlib import Path
from typing import Callable, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from . import codebook as cbk  # noqa: E402
from . import effects as E  # noqa: E402
from .contract import EFFECT_PROGRAMMES, EFFECT_OUTCOMES, PROGRAMMES  # noqa: E402
from .load import tidy_from_exports, write_tidy  # noqa: E402
from .measurement import balance, flow, reliability  # noqa: E402
from .plan import Plan  # noqa: E402
from .prereg import deviations_table  # noqa: E402
from .privacy import privacy_notes  # noqa: E402
from . import balance_ri as BR, bounds as B, languages as L, lin_rule as LR, questions as Q, sessions as S  # noqa: E402,E501  (issue 11)


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return ('<img alt="figure" src="data:image/png;base64,'
            + base64.b64encode(buf.getvalue()).decode("ascii") + '">')


def coefficient_plot(effects: pd.DataFrame, plan: Plan) -> plt.Figure:
    """Confirmatory effects by programme and pooled, 95% intervals, equivalence band."""
    pairs = [(o, f) for _, o, f in plan.confirmatory] or [(o, "manager") for o in EFFECT_OUTCOMES]
    fig, axes = plt.subplots(1, len(pairs), figsize=(3.2 * len(pairs), 3.4), sharey=True,
                             squeeze=False)
    labels = [*EFFECT_PROGRAMMES, "pooled"]
    for ax, (outcome, factor) in zip(axes[0], pairs):
        ax.axvspan(-plan.sesoi, plan.sesoi, color="#dfe9f3", label=f"±{plan.sesoi:g} (SESOI)")
        ax.axvline(0, color="#555", lw=0.8)
        for i, prog in enumerate(labels):
            estimator = "block_weighted" if prog == "pooled" else "difference_in_means"
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
    """Cell means (95% CI) per programme: partner on the x axis, one line per manager arm."""
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
    """A CONSORT-style diagram: boxes from opening the link to completing."""
    top = fl[fl.programme == "all"].iloc[0]
    progs = fl[(fl.programme != "all") & (fl.manager == "all arms")]
    fig, ax = plt.subplots(figsize=(max(8, 2.9 * len(progs)), 4.8))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)

    def box(x, y, text, w=0.2):
        ax.text(x, y, text, ha="center", va="center", fontsize=7.5,
                bbox=dict(boxstyle="round", fc="#f4f4f4", ec="#444"))

    def arrow(x0, y0, x1, y1):
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops=dict(arrowstyle="->", color="#444"))
    box(0.5, 0.93, f"Opened the link: {int(top.opened)}")
    box(0.85, 0.8, f"Declined / no consent: {int(top.opened - top.consented - top.withdrawn)}\n"
                   f"Withdrew later: {int(top.withdrawn)}")
    arrow(0.5, 0.89, 0.5, 0.77)
    box(0.5, 0.72, f"Consented: {int(top.consented)}")
    box(0.85, 0.6, f"Left before assignment: {int(top.consented - top.assigned)}")
    arrow(0.5, 0.68, 0.5, 0.56)
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


def _table(df: pd.DataFrame, digits: int = 3, max_rows: int | None = None) -> str:
    if df is None or df.empty:
        return "<p><em>none</em></p>"
    d = df.head(max_rows) if max_rows else df

    def fmt(v):
        if isinstance(v, (float, np.floating)):
            if not np.isfinite(v):
                return ""
            if float(v).is_integer() and abs(v) < 1e15:  # counts and df (NaN made them floats)
                return str(int(v))
            return f"{v:.{digits}g}" if abs(v) < 1e-3 and v != 0 else f"{v:.{digits}f}"
        return v
    return d.map(fmt).to_html(index=False, escape=True, border=0, classes="t", na_rep="")


CSS = """body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1200px;margin:2em auto;
padding:0 1em;color:#222}table.t{border-collapse:collapse;font-size:12px;margin:.5em 0 1.5em}
table.t td,table.t th{padding:2px 6px;border-bottom:1px solid #ddd;text-align:right}
table.t th{background:#f0f0f0}img{max-width:100%}footer{margin-top:3em;font-size:12px;color:#555}
details{margin:.5em 0 1.5em}code{background:#f4f4f4;padding:0 3px}"""


def run_report(inputs: Sequence[str | Path], out_dir: str | Path, plan: Plan,
               withdrawals: str | Path | None = None,
               progress: Callable[[str], None] | None = None, include_bots: bool = False,
               registered: str | Path | None = None, coarsen: bool = False) -> dict[str, Path]:
    """Load, estimate and write every output; returns the written paths by name.

    Parameters
    ----------
    inputs : paths
        oTree exports (wide or custom) or a tidy CSV, several at once.
    out_dir : path
        Created if missing; existing files of the same names are replaced.
    plan : Plan
        The analysis plan (named in the report footer with its SHA-256).
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
    eff = E.estimate_effects(tidy, plan)
    het = E.heterogeneity_table(tidy)
    eq = E.equivalence_table(eff, plan)
    eff, het = S.add_session_rows(eff, tidy, plan), S.add_session_heterogeneity(het, tidy, plan)  # issue 11: sessions
    say(f"[4/{steps}] randomisation inference")
    ri = E.ri_table(tidy, eff, plan, progress=lambda m: say(f"      {m}"))
    say(f"[5/{steps}] flow, balance, reliability")
    fl = flow(tidy)
    bal = balance(tidy, plan.numeric_covariates, plan.categorical_covariates)
    bal = BR.add_randomisation_omnibus(bal, tidy, plan)  # issue 11, item 7
    rel = reliability(tidy, 1 - plan.alpha)
    sens = E.sensitivity_table(tidy, plan)
    cm = E.cell_means(tidy, plan.alpha)
    new = dict(bounds=B.bounds_table(tidy, plan), **Q.questions_tables(tidy, plan),  # issue 11, items 4-9
               reliability_by_language=L.reliability_by_language(tidy, 1 - plan.alpha),
               items_by_language=L.item_means_by_language(tidy), lin_covariates=LR.lin_covariates(tidy, plan))
    say(f"[6/{steps}] writing tables")
    dev = deviations_table(plan, eff, ri, notes, registered)
    tables = dict(effects=eff, heterogeneity=het, equivalence=eq, randomisation_inference=ri,
                  flow=fl, balance=bal, reliability=rel, sensitivity=sens, cell_means=cm,
                  deviations=dev, **new)
    for name, df in tables.items():
        paths[name] = out / f"{name}.csv"
        df.to_csv(paths[name], index=False)
    say(f"[7/{steps}] figures")
    figs = dict(coef=_png(coefficient_plot(eff, plan)), cells=_png(cell_means_plot(cm)),
                flow=_png(flow_plot(fl)))
    say(f"[8/{steps}] report.html")
    hashes = {str(p): sha256_file(p) for p in inputs}
    hashes["tidy.csv (this run)"] = sha256_file(paths["tidy"])
    paths["report"] = out / "report.html"
    reg = None
    if registered is not None:
        hashes[f"registered plan {registered}"] = sha256_file(registered)
        reg = str(registered)
    extra = "\n".join([BR.balance_section(bal, _table), B.bounds_section(new["bounds"], _table, plan),  # issue 11
                       S.sessions_section(eff, het, _table), Q.questions_section(new, _table, _png),
                       L.languages_section(new["reliability_by_language"], new["items_by_language"], _table),
                       LR.lin_section(new["lin_covariates"], _table)])
    paths["report"].write_text(_html(tables, figs, plan, hashes, notes, len(tidy), reg, extra),
                               encoding="utf-8")
    say(f"done in {time.perf_counter() - t0:.1f} s: {out}")
    return paths


def _versions() -> str:
    import importlib.metadata as md
    pkgs = ["numpy", "pandas", "scipy", "statsmodels", "matplotlib", "pingouin"]
    parts = [f"Python {platform.python_version()}"]
    for p in pkgs:
        try:
            parts.append(f"{p} {md.version(p)}")
        except md.PackageNotFoundError:
            pass
    return ", ".join(parts)


def _deviations_html(dev: pd.DataFrame, registered: str | None) -> str:
    e = html.escape
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
    body = (f"<p>{len(other)} data-driven deviation(s): rows not estimable as planned, programmes "
            "left out of a pooled estimate, covariates dropped, data changed by the loader.</p>"
            + (_table(other) if len(other) else ""))
    return "<h2>Deviations from the registered plan</h2>" + head + body


def _html(t: dict, figs: dict, plan: Plan, hashes: dict, notes: list[str], n: int,
          registered: str | None = None, extra: str = "") -> str:
    eff = t["effects"]
    conf = eff[eff.adjustment == "holm"].merge(
        t["randomisation_inference"][["outcome", "factor", "programme", "p_value_ri"]]
        if not t["randomisation_inference"].empty else
        pd.DataFrame(columns=["outcome", "factor", "programme", "p_value_ri"]),
        on=["outcome", "factor", "programme"], how="left")
    eqc = t["equivalence"]
    conf = conf.merge(eqc[["outcome", "factor", "programme", "estimator", "p_tost"]],
                      on=["outcome", "factor", "programme", "estimator"], how="left")
    cols = ["outcome", "factor", "programme", "estimator", "estimate", "std_error", "df",
            "ci_low", "ci_high", "p_value", "p_adjusted", "p_value_ri", "p_tost", "n_treated",
            "n_control", "note"]
    by_prog = eff[(eff.estimator == "difference_in_means") & eff.outcome.isin(EFFECT_OUTCOMES)]
    inter = eff[eff.factor == "manager:partner"]
    checks = eff[eff.outcome.str.startswith("mc_")]
    bal = t["balance"]
    bal_omni = bal[bal.covariate == "omnibus"]
    bal_max = (bal[bal.covariate != "omnibus"].assign(abs_std_diff=lambda d: d.std_diff.abs())
               .groupby(["programme", "factor"], as_index=False)["abs_std_diff"].max())
    e = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Analysis report</title>", f"<style>{CSS}</style></head><body>",
        "<h1>Trust-based management and interprofessional collaboration: analysis report</h1>",
        f"<p>Plan: <b>{e(plan.name)}</b> ({e(plan.path)}). {n} participant rows. "
        "Effects are intention-to-treat among assigned participants with the outcome observed; "
        "the programme <code>other</code> is reported descriptively only.</p>",
        "<ul>" + "".join(f"<li>{e(x)}</li>" for x in notes) + "</ul>",
        _deviations_html(t["deviations"], registered),
        "<h2>Flow of participants</h2>", figs["flow"], _table(t["flow"]),
        "<h2>Confirmatory hypotheses (H1, H2)</h2>",
        "<p>Pooled block-weighted effects (HC2 = Neyman SE, df N − 2J); <code>p_adjusted</code> "
        f"is Holm across the family; <code>p_value_ri</code> from randomisation inference "
        f"({plan.ri_draws} draws, permuted blocks); <code>p_tost</code> is the equivalence "
        f"test against ±{plan.sesoi:g} scale points.</p>",
        _table(conf[cols]),
        "<h3>Effects by programme (95% intervals, shaded: equivalence band)</h3>", figs["coef"],
        "<h3>Cell means by programme</h3>", figs["cells"],
        "<h2>Effects by programme (exploratory, Benjamini–Hochberg)</h2>",
        _table(by_prog[["outcome", "factor", "programme", "estimate", "std_error", "df", "ci_low",
                        "ci_high", "p_value", "p_adjusted", "hedges_g", "g_ci_low", "g_ci_high",
                        "n_treated", "n_control", "note"]]),
        "<h2>H3: manager × partner interaction (exploratory)</h2>",
        _table(inter[["outcome", "programme", "estimator", "estimate", "std_error", "df", "ci_low",
                      "ci_high", "p_value", "p_adjusted", "note"]]),
        "<h2>Heterogeneity across programmes (HC2 Wald F = Cochran's Q / (J − 1))</h2>",
        _table(t["heterogeneity"]),
        "<h2>Manipulation checks, analysed as outcomes</h2>",
        "<p>Share answering the treated arm's option (trust; other profession), by arm.</p>",
        _table(checks[["outcome", "factor", "programme", "estimator", "estimate", "ci_low",
                       "ci_high", "p_value", "n_treated", "n_control"]]),
        "<h2>Sensitivity: excluding people who failed a check (not the main analysis)</h2>",
        _table(t["sensitivity"][["sample", "outcome", "factor", "programme", "estimator",
                                 "estimate", "ci_low", "ci_high", "p_value", "n_treated",
                                 "n_control"]] if not t["sensitivity"].empty else t["sensitivity"]),
        "<h2>Balance of pre-treatment covariates</h2>",
        "<p>Omnibus tests (HC2 Wald F of assignment on covariates) and the largest absolute "
        "standardised difference; full table in <code>balance.csv</code>.</p>",
        _table(bal_omni[["programme", "factor", "level", "statistic", "df1", "df2", "p_value", "note"]]),
        _table(bal_max),
        "<h2>Reliability</h2>", _table(t["reliability"]),
        extra,  # issue 11, items 4-9: bounds, sessions, the seed's questions, languages
        "<h2>All effects</h2><details><summary>effects.csv "
        f"({len(eff)} rows)</summary>", _table(eff), "</details>",
        "<footer><p><b>Plan</b>: " + e(plan.name) + " — " + e(plan.path) + " — SHA-256 "
        + plan.sha256 + "</p><p><b>Data SHA-256</b>:<br>"
        + "<br>".join(f"{e(k)}: {v}" for k, v in hashes.items()) + "</p>"
        + f"<p><b>Software</b>: {e(_versions())}</p>"
        + f"<p>Generated {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())} by "
        "<code>python -m analysis report</code>.</p></footer></body></html>",
    ]
    return "\n".join(parts)
