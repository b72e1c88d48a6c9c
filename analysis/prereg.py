"""Pre-registration: the plan and its design diagnosis as Markdown and HTML (OSF, AsPredicted),
and, at report time, every deviation from the registered plan.

The Markdown carries the plan file verbatim with its SHA-256, so the registered
document alone is enough to compare a later analysis with what was registered:
``python -m analysis report ... --registered prereg.md``.
"""
from __future__ import annotations

import hashlib
import html
import re
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from . import registry
from .contract import (CHECK_SCALE_FACTORS, EFFECT_OUTCOMES, FACTORS, INTERACTION,
                       MANIPULATION_CHECKS, OUTCOME_SCALES, SCALES)
from .nested import flatten
from .errors import AnalysisInputError
from .plan import Plan
from . import bounds, lin_rule, sessions  # issue 11, items 4, 5, 8

PLAN_MARK = "registered-plan"
_FACTOR_WORDS = {"manager": "manager (trust − control)", "partner": "partner (other − same)",
                 INTERACTION: "manager × partner interaction (difference of conditional manager effects)"}
DEVIATION_COLUMNS = ("kind", "item", "registered", "used", "detail")


# ---------------------------------------------------------------- rendering
def _md_table(df: pd.DataFrame, digits: int = 3) -> str:
    def fmt(v):
        if isinstance(v, (float, np.floating)):
            if not np.isfinite(v):
                return ""
            return str(int(v)) if float(v).is_integer() and abs(v) < 1e12 else f"{v:.{digits}f}"
        return str(v)
    head = "| " + " | ".join(df.columns) + " |"
    sep = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(fmt(v) for v in r) + " |" for r in df.itertuples(index=False)]
    return "\n".join([head, sep, *body])


def render_markdown(plan: Plan, diagnosis: pd.DataFrame | None = None,
                    design_text: list[str] | None = None, title: str | None = None) -> str:
    """The pre-registration document (Markdown), from the plan and its diagnosis.

    Parameters
    ----------
    design_text : list of str, optional
        The design's assumptions in words.
    title : str, optional
        The document's title; default the study's.
    """
    raw = plan.raw
    hyp = raw.get("hypotheses", {})
    conf = plan.confirmatory
    title = title or "Trust-based management and interprofessional collaboration: a classroom vignette experiment"
    lines = [f"# Pre-registration: {title}", "",
             f"Analysis plan **{plan.name}** (version {raw.get('version', 'n/a')}), "
             f"SHA-256 `{plan.sha256}`. Generated {time.strftime('%Y-%m-%d', time.gmtime())} by "
             "`python -m analysis preregister`; the plan file is reproduced verbatim in section 10.", ""]
    lines += ["## 1. Hypotheses", ""]
    confirmed = {h for h, _, _ in conf}
    for key, text in hyp.items():
        lines.append(f"- **{key}**{'' if key in confirmed else ' (exploratory)'}: {text}")
    primary = plan.primary_estimator(registry.POOLED)
    lines += ["", f"Confirmatory tests (two-sided, pooled across programmes, `{primary}`):", ""]
    for h, outcome, factor in conf:
        lines.append(f"- {h}: effect of {_FACTOR_WORDS.get(factor, factor)} on `{outcome}`")
    extra = raw.get("exploratory", {}).get("hypotheses", [])
    if extra:
        lines += ["", "Exploratory (not confirmatory, Benjamini–Hochberg):", ""]
        lines += [f"- {e}" for e in extra]
    checks = ", ".join(f"`{s}` (a check of the {f} factor)" for s, f in CHECK_SCALE_FACTORS.items())
    lines += ["", f"Manipulation checks, not outcomes of any family: {checks}, and "
              + ", ".join(f"`{c}`" for _, c in MANIPULATION_CHECKS.values())
              + " (pass rates by arm). The manager text describes autonomy, so perceived autonomy "
              "shows whether the manager factor was perceived; it is not evidence for H1."]
    lines += ["", "## 2. Design", "",
              "A 2 × 2 between-subjects vignette experiment: manager (`trust`, `control`) × "
              "collaboration partner (`same`, `other` profession). One oTree session per class. "
              "Students are assigned once, after consent and after reporting their programme, by "
              "stratified permuted blocks of the four cells within each programme of a session "
              "(block size 4: the cell counts of a programme never differ by more than one), with a "
              "cryptographic random source; every assignment's audit trail (stratum, block, "
              "position, probability 1/4, time, algorithm version) is stored. Programme `other` is "
              "assigned in its own stratum and reported descriptively. Abandoned places are not "
              "refilled. The design decisions are documented in the project's `docs/design.md`, "
              "the instrument's texts in all three languages in `docs/instrument.md`.", ""]
    lines += ["## 3. Outcomes and estimands", ""]
    for sc in EFFECT_OUTCOMES:
        kind = "manipulation check" if sc in CHECK_SCALE_FACTORS else "outcome"
        lines.append(f"- `{sc}` ({kind}): mean of {', '.join(f'`{i}`' for i in SCALES[sc])} (1–7), "
                     "scored when at least half of the items are answered")
    lines += ["", "Estimands: intention-to-treat average effects among assigned students, per programme "
              "(nursing, teacher education, management, public administration) and pooled across "
              "programmes with weights equal to each programme's share of the sample. "
              + "; ".join(f"`{f}` = {_FACTOR_WORDS[f]}" for f in (*FACTORS, INTERACTION)) + ".", ""]
    lines += ["## 4. Estimators", "",
              "Every estimator, its scope and its role (`analysis/registry.py`):", "",
              registry.markdown_list(), "",
              f"Lin's covariates: {', '.join(plan.numeric_covariates)} (numeric) and "
              f"{', '.join(plan.categorical_covariates)} (categorical); missing covariates mean-filled "
              "with an indicator. Manipulation checks are also analysed as outcomes (share choosing "
              "the treated arm's option).", ""]
    lines[-1:-1] = lin_rule.prereg_lines(plan)  # issue 11, item 8
    per = ", then ".join(f"`{x}`" for x in plan.primary[registry.PER_PROGRAMME])
    lines += ["## 5. Inference, families and corrections", "",
              f"- Level α = {plan.alpha:g}, two-sided; 95% t intervals.",
              "- Families by hypothesis: a hypothesis (outcome × effect × programme or pooled) is "
              f"counted once, by its primary estimator's row (pooled: `{primary}`; per programme: "
              f"{per}, the first that estimates the effect). Every other estimator's row of the same "
              "hypothesis is a robustness row (`adjustment = robustness`): reported, never adjusted, "
              "never in a family. A planned robustness row that cannot be estimated is reported "
              "with its reason, not as a deviation.",
              f"- Confirmatory family ({len(conf)} tests, the pooled primary rows above): "
              "Holm's step-down correction.",
              "- Exploratory family (every other primary row on the outcome scales "
              f"{', '.join(f'`{o}`' for o in OUTCOME_SCALES)}: by programme, the interaction, other "
              "outcome × factor pairs): Benjamini–Hochberg.",
              f"- Randomisation inference for the confirmatory family: {plan.ri_draws} re-randomisations "
              f"(exact enumeration when there are few), seed {plan.ri_seed}. Each main effect's sharp "
              "null (the factor changes nobody's outcome) is tested conditionally on the other "
              "factor's labels: its labels are re-randomised within session × programme × block × the "
              "other factor's arm, as the permuted 2 × 2 blocks assigned them, so the test stays "
              "exact when the other factor has an effect.",
              f"- Equivalence (TOST) against ±{plan.sesoi_sd:g} outcome SDs (section 6) for every "
              "outcome row.",
              "- Heterogeneity across programmes: HC2 Wald test (Cochran's Q).", ""]
    lines[-1:-1] = sessions.prereg_lines()  # issue 11, item 5
    lines += ["## 6. Smallest effect size of interest", "",
              f"{plan.sesoi_sd:g} outcome SDs, in both directions: the equivalence bounds, the band in "
              "the report's coefficient plot and the reference of the sample-size justification. The "
              "report converts it to scale points with each outcome's observed pooled within-cell SD "
              "(programme × cell) and states the result; the design diagnosis converts it with the "
              "assumed outcome SD"
              + (f" ({float(plan.raw.get('design', {}).get('outcome_sd', 1.0)):g} scale points, so "
                 f"{plan.sesoi_sd * float(plan.raw.get('design', {}).get('outcome_sd', 1.0)):.2f} "
                 "scale points)" if "design" in plan.raw else "") + ".", ""]
    lines += ["## 7. Exclusions and missing data", "",
              "- Analysed: every assigned student who did not withdraw, with the outcome observed "
              "(intention to treat). Drop-out after assignment is reported by arm with a test of "
              "differential attrition.",
              "- Not analysed: students who declined consent (nothing but the refusal is stored), "
              "withdrawn students (by their debrief code), demo sessions and bot rows, programme "
              "`other` (described only).",
              "- The attention item and the manipulation checks never exclude anyone from the main "
              "analysis; sensitivity analyses exclude those who failed "
              + ", ".join(f"`{v}`" for v in plan.sensitivity_exclusions) + ".",
              "- Rows that cannot be estimated (an arm or cell with fewer than two people) are "
              "reported as not estimable; the pooled estimate leaves such programmes out and names them.",
              "- Privacy: combinations of programme × site × age band × gender with fewer than 5 people "
              "are reported; published tidy data may coarsen age band and gender in such cells.", ""]
    lines[-1:-1] = bounds.prereg_lines(plan)  # issue 11, item 4
    lines += ["## 8. Sample size justification", ""]
    if diagnosis is None:
        lines += ["No design diagnosis was attached.", ""]
    else:
        lines += [*(f"- {t}" for t in (design_text or [])), "",
                  "Simulated diagnosands (`python -m analysis design`): power at the assumed effect, "
                  "bias, coverage of the 95% interval and the minimum detectable effect at 80% power "
                  "(`mde_80`, scale points).", ""]
        pooled = diagnosis[diagnosis.programme == "pooled"]
        fam = int(pooled.family_size.iloc[0]) if "family_size" in pooled and len(pooled) else 1
        lines += [_md_table(pooled[[c for c in ("factor", "estimator", "n", "effect", "power", "bias",
                                                "coverage", "mde_80", "power_family",
                                                "mde_80_family", "sesoi", "power_equivalence")
                                    if c in pooled]]), "",
                  f"`power_family` and `mde_80_family` test at α/{fam} (Bonferroni over the {fam} "
                  "confirmatory tests: a conservative bound for Holm's procedure). `power_equivalence`: "
                  "power of the equivalence test against the SESOI (`sesoi`, scale points) when the "
                  "true effect is 0.", ""]
        by = diagnosis[(diagnosis.programme != registry.POOLED)
                       & (diagnosis.estimator == plan.primary_estimator("per_programme"))]
        if len(by):
            lines += ["By programme (difference in means):", "",
                      _md_table(by[["factor", "programme", "n", "effect", "power", "mde_80"]]), ""]
        verdict = []
        for h, outcome, factor in conf:
            r = pooled[pooled.factor == factor]
            if len(r):
                m = float(r["mde_80_family" if "mde_80_family" in r else "mde_80"].iloc[0])
                ses = (float(r["sesoi"].iloc[0]) if "sesoi" in r
                       else plan.sesoi_sd * float(plan.raw.get("design", {}).get("outcome_sd", 1.0)))
                verdict.append(f"{h} ({outcome}, {factor}): pooled MDE {m:.2f} "
                               f"{'≤' if m <= ses else '>'} SESOI {ses:.2f} scale points "
                               f"({plan.sesoi_sd:g} SD)")
        lines += ["Against the smallest effect of interest (MDE at the family level): "
                  + "; ".join(verdict) + ".", ""]
    lines += ["## 9. Deviations", "",
              "The report compares the plan it used with this document "
              "(`python -m analysis report … --registered prereg.md`) and lists every difference, "
              "and every data-driven deviation (rows not estimable, programmes left out of a pooled "
              "estimate, coarsened covariates), in `deviations.csv` and in the report.", ""]
    text = Path(plan.path).read_text(encoding="utf-8")
    lines += ["## 10. The analysis plan (verbatim)", "",
              f"<!-- {PLAN_MARK} sha256={plan.sha256} file={Path(plan.path).name} -->",
              "```toml", text.rstrip("\n"), "```", ""]
    return "\n".join(lines)


def markdown_to_html(md: str, title: str = "Pre-registration") -> str:
    """The small Markdown subset :func:`render_markdown` writes, as a self-contained page.

    Parameters
    ----------
    md : str
        Markdown from :func:`render_markdown`.
    title : str
        The page title.
    """
    from .htmlparts import CSS

    def inline(t: str) -> str:
        t = html.escape(t)
        t = re.sub(r"`([^`]+)`", r"<code>\1</code>", t)
        return re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", t)
    out, lines, i = [], md.splitlines(), 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            out.append("<pre><code>" + html.escape("\n".join(lines[i + 1:j])) + "</code></pre>")
            i = j + 1
            continue
        if line.startswith("<!--"):
            out.append(line)
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{inline(line[level:].strip())}</h{level}>")
        elif line.startswith("- "):
            items = []
            while i < len(lines) and lines[i].startswith("- "):
                items.append(f"<li>{inline(lines[i][2:])}</li>")
                i += 1
            out.append("<ul>" + "".join(items) + "</ul>")
            continue
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append([c.strip() for c in lines[i].strip("|").split("|")])
                i += 1
            head, body = rows[0], [r for r in rows[1:] if not set("".join(r)) <= set("-")]
            out.append("<table class='t'><tr>" + "".join(f"<th>{inline(c)}</th>" for c in head) + "</tr>"
                       + "".join("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in r) + "</tr>" for r in body)
                       + "</table>")
            continue
        elif line.strip():
            out.append(f"<p>{inline(line)}</p>")
        i += 1
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style></head><body>" + "\n".join(out) + "</body></html>")


# ---------------------------------------------------------------- the registered plan
def registered_plan_text(path: str | Path) -> tuple[str, str]:
    """The registered plan's text and SHA-256: from a pre-registration (.md) or a plan (.toml).

    Parameters
    ----------
    path : path
        A pre-registration (.md) or a plan (.toml).

    Raises
    ------
    AnalysisInputError
        No embedded plan, or its text does not match the SHA-256 it was registered with.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AnalysisInputError(p, "registered plan not found") from None
    m = re.search(rf"<!-- {PLAN_MARK} sha256=([0-9a-f]{{64}})[^>]*-->\s*```toml\n(.*?)\n```", text, re.S)
    if m is None:
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            raise AnalysisInputError(p, "neither a pre-registration with an embedded plan nor a plan "
                                     "TOML file") from None
        return text, hashlib.sha256(p.read_bytes()).hexdigest()
    sha = m.group(1)
    # The plan is embedded without its trailing newlines; try the usual endings.
    body = next((m.group(2) + end for end in ("\n", "", "\n\n")
                 if hashlib.sha256((m.group(2) + end).encode("utf-8")).hexdigest() == sha), None)
    if body is None:
        raise AnalysisInputError(p, "the embedded plan does not match its registered SHA-256 "
                                 "(edited after registration?)")
    return body, sha


def plan_deviations(plan: Plan, registered: str | Path) -> list[dict]:
    """Differences between the plan used and the registered one, key by key."""
    text, sha = registered_plan_text(registered)
    reg = tomllib.loads(text)
    rows = []
    a, b = flatten(reg), flatten(plan.raw)
    for key in sorted(set(a) | set(b)):
        if a.get(key, "<absent>") != b.get(key, "<absent>"):
            rows.append(dict(kind="plan", item=key, registered=repr(a.get(key, "<absent>")),
                             used=repr(b.get(key, "<absent>")), detail="plan entry changed"))
    reg_draws = int(reg.get("randomisation_inference", {}).get("draws", 2000))
    if plan.ri_draws != reg_draws and not any(r["item"] == "randomisation_inference.draws" for r in rows):
        rows.append(dict(kind="plan", item="randomisation_inference.draws", registered=str(reg_draws),
                         used=str(plan.ri_draws), detail="overridden on the command line (--draws)"))
    if sha != plan.sha256 and not rows:
        rows.append(dict(kind="plan", item="(file)", registered=sha, used=plan.sha256,
                         detail="same entries; the plan file differs only in comments or layout"))
    return rows


def data_deviations(effects: pd.DataFrame, ri: pd.DataFrame | None = None,
                    notes: list[str] | None = None) -> list[dict]:
    """Data-driven deviations: rows not estimable, programmes left out, covariates dropped,
    and what the loader changed (bots kept, cells coarsened).

    Parameters
    ----------
    effects : DataFrame
        Effects rows (:func:`analysis.effects.estimate_effects`).
    ri : DataFrame, optional
        Randomisation-inference rows (:func:`analysis.effects.ri_table`).
    notes : list of str, optional
        What the loader changed (bots kept, cells coarsened).
    """
    rows = []
    noted = effects["note"].fillna("").astype(str) != ""
    if "adjustment" in effects:  # a planned robustness row that cannot be estimated keeps
        noted &= effects["adjustment"].astype(str) != "robustness"  # its note: no deviation
    for r in effects[noted].itertuples():
        kind = "not estimable" if str(r.note).startswith("not estimable") else "estimator adapted"
        rows.append(dict(kind=kind, item=f"{r.outcome} / {r.factor} / {r.programme} / {r.estimator}",
                         registered="estimated as planned", used="", detail=str(r.note)))
    if ri is not None and len(ri) and "note" in ri:
        for r in ri[ri["note"].fillna("").astype(str) != ""].itertuples():
            rows.append(dict(kind="not estimable", item=f"randomisation inference {r.outcome} / {r.factor} "
                             f"/ {r.programme}", registered="tested as planned", used="", detail=str(r.note)))
    for n in notes or []:
        if n.startswith(("kept ", "privacy: coarsened")):
            rows.append(dict(kind="data", item="loader", registered="", used="", detail=n))
    return rows


def deviations_table(plan: Plan, effects: pd.DataFrame, ri: pd.DataFrame | None = None,
                     notes: list[str] | None = None, registered: str | Path | None = None
                     ) -> pd.DataFrame:
    """Every deviation from the plan: the plan's own changes since registration, then the data-driven ones.

    Parameters
    ----------
    plan : Plan
        The analysis plan (:func:`analysis.plan.load_plan`).
    effects : DataFrame
        Effects rows (:func:`analysis.effects.estimate_effects`).
    ri : DataFrame, optional
        Randomisation-inference rows.
    notes : list of str, optional
        What the loader changed.
    registered : path, optional
        The registered pre-registration or plan to compare with.
    """
    rows = (plan_deviations(plan, registered) if registered else []) + data_deviations(effects, ri, notes)
    return pd.DataFrame(rows, columns=list(DEVIATION_COLUMNS))


def write_preregistration(plan: Plan, out_dir: str | Path, diagnosis: pd.DataFrame | None = None,
                          design_text: list[str] | None = None) -> dict[str, Path]:
    """Write ``prereg.md`` and ``prereg.html``; returns their paths by kind.

    Parameters
    ----------
    plan : Plan
        The analysis plan (:func:`analysis.plan.load_plan`).
    out_dir : path
        Output folder, created if missing.
    diagnosis : DataFrame, optional
        The design diagnosis.
    design_text : list of str, optional
        The design's assumptions in words.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    md = render_markdown(plan, diagnosis, design_text)
    paths = {"md": out / "prereg.md", "html": out / "prereg.html"}
    paths["md"].write_text(md, encoding="utf-8")
    paths["html"].write_text(markdown_to_html(md), encoding="utf-8")
    return paths
