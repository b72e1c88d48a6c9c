"""Across languages (nb, da, en): reliability and item means per scale and language.

Measurement invariance (configural, metric, scalar: a multi-group confirmatory factor
analysis) is **not tested**: it needs a structural equation modelling package, and none
of the packages this analysis may use (pandas, NumPy, SciPy, statsmodels, pingouin)
fits multi-group CFA with equality constraints; a hand-written one could not be checked
against a reference result. What is reported instead lets a reader see whether a scale
behaves differently in one language: Cronbach's alpha (Feldt interval) and McDonald's
omega per language, and each item's mean and SD per language, with a one-way ANOVA F
of the item on language (descriptive: languages coincide with sites and classes, so a
difference is not a translation effect alone).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .contract import LANGUAGES, SCALES
from .measurement import cronbach_alpha, mcdonald_omega

INVARIANCE_NOTE = ("Measurement invariance across languages is not tested: multi-group "
                   "confirmatory factor analysis needs an SEM package, and none of the "
                   "packages this analysis may use (pandas, NumPy, SciPy, statsmodels, "
                   "pingouin) provides one. By-language reliability and item means are "
                   "reported instead.")


def _base(tidy: pd.DataFrame) -> pd.DataFrame:
    return tidy[tidy["consented"].fillna(False).astype(bool)
                & ~tidy["withdrawn"].fillna(False).astype(bool)]


def reliability_by_language(tidy: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Alpha (Feldt interval) and omega per scale and language (complete answers).

    Parameters
    ----------
    tidy : DataFrame
        The tidy table (everyone who consented and did not withdraw).
    confidence : float
        Coverage of alpha's interval.
    """
    base = _base(tidy)
    lang_of = base["language"].astype(object).to_numpy()
    masks = {lang: lang_of == lang for lang in LANGUAGES}  # once: string comparisons are slow
    rows = []
    for scale, items in SCALES.items():
        for lang in LANGUAGES:
            X = base[list(items)].to_numpy(dtype=float)[masks[lang]]
            X = X[np.isfinite(X).all(axis=1)]
            if len(X) == 0:
                continue
            a, lo, hi = cronbach_alpha(X, confidence)
            rows.append(dict(scale=scale, language=lang, n=len(X), alpha=a, alpha_ci_low=lo,
                             alpha_ci_high=hi, omega=mcdonald_omega(X),
                             note="" if np.isfinite(a) else "not estimable: too few answers"))
    return pd.DataFrame(rows, columns=["scale", "language", "n", "alpha", "alpha_ci_low",
                                       "alpha_ci_high", "omega", "note"])


def item_means_by_language(tidy: pd.DataFrame) -> pd.DataFrame:
    """Each scale item's mean and SD per language, and a one-way ANOVA across languages.

    Parameters
    ----------
    tidy : DataFrame
        The tidy table.

    Returns
    -------
    DataFrame
        scale, item, then n_/mean_/sd_ per language present, anova_F, anova_p.
    """
    base = _base(tidy)
    lang_of = base["language"].astype(object).to_numpy()
    masks = {lang: lang_of == lang for lang in LANGUAGES}
    present = [lang for lang in LANGUAGES if masks[lang].any()]
    rows = []
    for scale, items in SCALES.items():
        for item in items:
            row = dict(scale=scale, item=item)
            groups = []
            col = base[item].to_numpy(dtype=float)
            for lang in present:
                y = col[masks[lang]]
                y = y[np.isfinite(y)]
                row[f"n_{lang}"] = len(y)
                row[f"mean_{lang}"] = y.mean() if len(y) else np.nan
                row[f"sd_{lang}"] = y.std(ddof=1) if len(y) > 1 else np.nan
                if len(y) > 1:
                    groups.append(y)
            if len(groups) >= 2 and any(g.std() > 0 for g in groups):
                F, p = stats.f_oneway(*groups)
                row.update(anova_F=float(F), anova_p=float(p))
            else:
                row.update(anova_F=np.nan, anova_p=np.nan)
            rows.append(row)
    return pd.DataFrame(rows)


def languages_section(rel: pd.DataFrame, items: pd.DataFrame, table) -> str:
    """The report section (HTML).

    Parameters
    ----------
    rel, items : DataFrame
        :func:`reliability_by_language` and :func:`item_means_by_language`.
    table : callable
        The report's DataFrame-to-HTML function.
    """
    n_lang = rel["language"].nunique() if not rel.empty else 0
    return "\n".join([
        "<h2>Across languages (nb, da, en)</h2>",
        f"<p>{n_lang} language(s) in the data. Reliability per scale and language, and item "
        "means with a one-way ANOVA across languages (descriptive: language coincides with "
        f"site and class). {INVARIANCE_NOTE}</p>",
        table(rel),
        "<details><summary>Item means by language (<code>items_by_language.csv</code>)</summary>",
        table(items), "</details>",
    ])
