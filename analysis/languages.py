"""Across languages (nb, da, en): reliability, item means and measurement invariance per scale.

Reported per scale and language: Cronbach's alpha (Feldt interval), McDonald's omega, each
item's mean and SD with a one-way ANOVA F of the item on language (descriptive: languages
coincide with sites and classes, so a difference is not a translation effect alone).

Measurement invariance across languages is tested per scale with a multi-group
confirmatory factor analysis (one factor, marker-item scaling, ML) fitted by semopy:
configural (same structure, everything free per language), metric (loadings equal) and
scalar (loadings and item intercepts equal; factor means free except in the first
language), with chi-square difference tests, CFI and RMSEA. semopy has no joint
multi-group estimator (its ``multigroup`` fits each group separately), so the groups are
stacked side by side: each language has its own copy of the items (missing for the other
languages' rows), the full-information ML objective then sums the per-language
likelihoods, and a parameter shared across languages is one parameter name. semopy builds
and fits the model; its FIML objective is evaluated from each language's mean and
cross-products (:func:`_grouped_means_model`: the same value and gradient, at a cost that
does not grow with the number of answers). This reproduces lavaan's
Holzinger-Swineford (1939) invariance example to 0.001 (configural 115.851, df 48; metric
124.044, df 54; scalar 164.103, df 60; tests/test_analysis_languages.py). A 3-item scale's
configural model is just-identified (chi-square 0, df 0): its fit cannot be tested, and the
metric test is then a test of equal loadings against the saturated model.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from .contract import LANGUAGES, SCALES
from .measurement import cronbach_alpha, mcdonald_omega

INVARIANCE_NOTE = ("Measurement invariance across languages is tested per scale with a "
                   "multi-group confirmatory factor analysis (one factor, ML, semopy): "
                   "configural (same structure), metric (equal loadings) and scalar (equal "
                   "loadings and item intercepts), each compared with the previous level by a "
                   "chi-square difference test. A 3-item scale's configural model is "
                   "just-identified (chi-square 0, df 0), so only its metric and scalar "
                   "constraints are tested.")
#: Invariance levels, in the order they are nested.
LEVELS = ("configural", "metric", "scalar")


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


def _mgcfa_desc(factors: dict, n_groups: int, level: str) -> str:
    """semopy syntax for the stacked multi-group model (see the module docstring)."""
    lines = []
    for g in range(n_groups):
        for f, xs in factors.items():
            terms = [f"{x}__g{g}" if k == 0 else  # marker: first loading fixed to 1
                     f"l_{x}{'' if level != 'configural' else f'__g{g}'}*{x}__g{g}"
                     for k, x in enumerate(xs)]
            lines.append(f"{f}__g{g} =~ " + " + ".join(terms))
        for xs in factors.values():
            for x in xs:
                lines.append(f"{x}__g{g} ~ i_{x}{'' if level == 'scalar' else f'__g{g}'}*1")
        fs = list(factors)
        for i, a in enumerate(fs):  # within a group: factor covariances free
            for b in fs[i + 1:]:
                lines.append(f"{a}__g{g} ~~ {b}__g{g}")
        if level == "scalar" and g > 0:  # factor means free except in the first group
            lines += [f"{f}__g{g} ~ m_{f}__g{g}*1" for f in fs]
            lines.append("START(0) " + " ".join(f"m_{f}__g{g}" for f in fs))
        for h in range(g + 1, n_groups):  # across groups: no covariance
            lines += [f"{a}__g{g} ~~ 0*{b}__g{h}" for a in fs for b in fs]
    return "\n".join(lines)


def _grouped_means_model():
    """semopy's ModelMeans with its ML objective computed from each missing-value
    pattern's size, mean and cross-products instead of from every row.

    With intercepts as the only exogenous term, every row of a pattern has the same model
    mean, so sum_i (x_i - mu)(x_i - mu)' = C + n (xbar - mu)(xbar - mu)' and the objective
    and gradient are semopy's own (model_means.ModelMeans.obj_fiml / grad_fiml), term by
    term, divided by the number of rows. The cost no longer grows with the number of rows
    (semopy's per-row version took minutes for a few thousand answers), and the objective
    stays near 1 in size (SLSQP stopped far from the optimum on the raw sum for 100,000
    rows). Checked against semopy's own objective and gradient in
    tests/test_analysis_languages.py.
    """
    import semopy
    from semopy.utils import chol_inv, chol_inv2

    class GroupedMeans(semopy.ModelMeans):
        def prepare_fiml(self):
            if list(self.vars["observed_exogenous"]) != ["1"]:
                raise ValueError("only intercepts may be exogenous")
            data = self.mx_data
            patterns: dict = {}
            for i, row in enumerate(np.isfinite(data)):
                patterns.setdefault(tuple(np.flatnonzero(row)), []).append(i)
            self.fiml_data = {}
            for cols, rows in patterns.items():
                X = data[np.ix_(rows, cols)]
                xbar = X.mean(axis=0)
                dev = X - xbar
                keep = np.array(cols, dtype=int)
                self.fiml_data[cols] = (xbar, dev.T @ dev, keep, np.ix_(keep, keep), len(rows))
            self.mx_g = np.ones((1, 1))  # the intercept: one model mean for every row
            self.n_rows = data.shape[0]  # objective per row: SLSQP fails on sums of 10^5 rows

        def obj_fiml(self, x):
            self.update_matrices(x)
            sigma_full, (m, _) = self.calc_sigma()
            mean_full = self.calc_mean(m)[:, 0]
            loss = 0.0
            for xbar, cross, keep, block, n in self.fiml_data.values():
                d = xbar - mean_full[keep]
                try:
                    sigma_inv, logdet = chol_inv2(sigma_full[block])
                except np.linalg.LinAlgError:
                    return np.inf
                loss += np.einsum("ij,ji->", cross + n * np.outer(d, d), sigma_inv) + n * logdet
            return loss / self.n_rows if loss >= 0 else np.inf

        def grad_fiml(self, x):
            self.update_matrices(x)
            sigma_full, (m, c) = self.calc_sigma()
            mean_full = self.calc_mean(m)[:, 0]
            sigma_grad, mean_grad = self.calc_sigma_grad(m, c), self.calc_mean_grad(m, c)
            grad = np.zeros(len(sigma_grad))
            for xbar, cross, keep, block, n in self.fiml_data.values():
                try:
                    sigma_inv = chol_inv(sigma_full[block])
                except np.linalg.LinAlgError:
                    return np.full(len(grad), np.inf)
                d = xbar - mean_full[keep]
                s = cross + n * np.outer(d, d)
                a = sigma_inv @ d
                t = sigma_inv @ s @ sigma_inv
                for i, (s_g, m_g) in enumerate(zip(sigma_grad, mean_grad)):
                    if len(np.shape(m_g)):
                        grad[i] += -2 * n * m_g[keep, 0] @ a
                    if len(np.shape(s_g)):  # both matrices symmetric: tr(A B) = sum(A * B)
                        grad[i] += np.sum((n * sigma_inv - t) * s_g[block])
            return grad / self.n_rows

    return GroupedMeans


def mgcfa_invariance(data: pd.DataFrame, factors: dict, group: str,
                     groups: list | None = None) -> pd.DataFrame:
    """Configural, metric and scalar invariance of a CFA across groups (ML, semopy).

    Loadings are scaled by a marker item (each factor's first item, loading 1 in every
    group), as lavaan does by default. Scalar: factor means are 0 in the first group and
    free in the others. The chi-square is lavaan's ML statistic (sum over groups of N_g
    times the ML discrepancy, N not N - 1); CFI and RMSEA (lavaan's multi-group RMSEA,
    times sqrt of the number of groups) use the independence model with free means.

    Parameters
    ----------
    data : DataFrame
        One row per person: the items and the group column; rows with a missing item are
        dropped.
    factors : dict
        Factor name -> list of its items (first item = marker). Names must be identifiers.
    group : str
        The group column.
    groups : list, optional
        Groups to compare, in this order (the first is the reference for factor means);
        default: the groups present, sorted.

    Returns
    -------
    DataFrame
        One row per level: level, chi2, df, p, cfi, rmsea, delta_chi2, delta_df, delta_p
        (against the previous level), n_params, converged (False also when the
        chi-square falls below the less constrained level's, which a real optimum cannot).
    """
    model_class = _grouped_means_model()  # imports semopy here: loading sympy costs a second
    items = [x for xs in factors.values() for x in xs]
    d = data[[group, *items]].dropna()
    groups = sorted(d[group].unique()) if groups is None else list(groups)
    p = len(items)
    blocks, sat, base, n = [], 0.0, 0.0, 0
    for g, name in enumerate(groups):
        X = d.loc[d[group] == name, items].to_numpy(dtype=float)
        S = np.cov(X, rowvar=False, bias=True) if len(X) > 1 else np.zeros((p, p))
        if np.linalg.eigvalsh(S).min() <= 1e-10 * max(np.trace(S), 1e-300):
            raise ValueError(f"the items' covariance matrix in group {name} is singular")
        sat += len(X) * (np.linalg.slogdet(S)[1] + p)
        base += len(X) * (np.log(np.diag(S)).sum() + p)
        n += len(X)
        blocks.append(pd.DataFrame(X, columns=[f"{x}__g{g}" for x in items]))
    wide = pd.concat(blocks, ignore_index=True)  # each group's items missing in other rows
    n_moments = len(groups) * (p * (p + 1) // 2 + p)
    chi2_b, df_b = base - sat, len(groups) * p * (p - 1) // 2
    rows, prev = [], None
    for level in LEVELS:
        model = model_class(_mgcfa_desc(factors, len(groups), level))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = model.fit(wide, options={"ftol": 1e-12})  # ML; NaN = the other groups
        k = len(model.param_vals)
        df = n_moments - k
        chi2 = max(res.fun * len(wide) - sat, 0.0) if df > 0 else 0.0  # just-identified: 0 up to tolerance
        row = dict(level=level, chi2=chi2, df=df,
                   p=float(stats.chi2.sf(chi2, df)) if df > 0 else np.nan,
                   cfi=(1 - max(chi2 - df, 0) / max(chi2_b - df_b, chi2 - df, 0)
                        if df > 0 and max(chi2_b - df_b, chi2 - df) > 0 else np.nan),
                   rmsea=(np.sqrt(max(chi2 - df, 0) / (df * n)) * np.sqrt(len(groups))
                          if df > 0 else np.nan),
                   delta_chi2=np.nan, delta_df=np.nan, delta_p=np.nan,
                   n_params=k, converged=bool(res.success) and (  # nested: chi2 cannot fall
                       prev is None or chi2 >= prev["chi2"] - 1e-4 * max(1.0, prev["chi2"])))
        if prev is not None:
            dc, dd = max(chi2 - prev["chi2"], 0.0), df - prev["df"]
            row.update(delta_chi2=dc, delta_df=dd, delta_p=float(stats.chi2.sf(dc, dd)))
        rows.append(row)
        prev = row
    return pd.DataFrame(rows)


def invariance_by_language(tidy: pd.DataFrame, min_n: int = 30) -> pd.DataFrame:
    """Measurement invariance of each scale across languages (one factor per scale).

    Parameters
    ----------
    tidy : DataFrame
        The tidy table (everyone who consented and did not withdraw; complete answers to
        the scale).
    min_n : int
        A language enters a scale's test only with at least this many complete answers.

    Returns
    -------
    DataFrame
        scale, languages, n, then :func:`mgcfa_invariance`'s columns per level, and a note
        (why a scale is not tested, or that its configural model is just-identified).
    """
    base = _base(tidy)
    cols = ["scale", "languages", "n", "level", "chi2", "df", "p", "cfi", "rmsea",
            "delta_chi2", "delta_df", "delta_p", "converged", "note"]
    rows = []
    for scale, items in SCALES.items():
        d = base[["language", *items]].dropna()
        d = d.assign(language=d["language"].astype(object))
        counts = d["language"].value_counts()
        langs = [lang for lang in LANGUAGES if counts.get(lang, 0) >= max(min_n, len(items) + 1)]
        if len(langs) < 2:
            rows.append(dict(scale=scale, languages=", ".join(langs), n=int(counts.sum()),
                             note=f"not tested: fewer than two languages with {min_n} or "
                                  "more complete answers"))
            continue
        d = d[d["language"].isin(langs)]
        try:
            res = mgcfa_invariance(d, {scale: list(items)}, "language", langs)
        except Exception as exc:  # a failed fit is reported, never raised into the report
            why = str(exc) if isinstance(exc, ValueError) else type(exc).__name__
            rows.append(dict(scale=scale, languages=", ".join(langs), n=len(d),
                             note=f"not tested: the model could not be fitted ({why})"))
            continue
        for r in res.to_dict("records"):
            note = ""
            if r["level"] == "configural" and r["df"] == 0:
                note = "just-identified: fit not testable"
            elif not r["converged"]:
                note = "did not converge"
            rows.append(dict(scale=scale, languages=", ".join(langs), n=len(d), note=note,
                             **{c: r[c] for c in cols if c in r}))
    return pd.DataFrame(rows, columns=cols)


def languages_section(rel: pd.DataFrame, items: pd.DataFrame, table,
                      invariance: pd.DataFrame | None = None) -> str:
    """The report section (HTML).

    Parameters
    ----------
    rel, items : DataFrame
        :func:`reliability_by_language` and :func:`item_means_by_language`.
    table : callable
        The report's DataFrame-to-HTML function.
    invariance : DataFrame, optional
        :func:`invariance_by_language`; omitted, the section says invariance was not run.
    """
    n_lang = rel["language"].nunique() if not rel.empty else 0
    inv = ([f"<p>{INVARIANCE_NOTE} Loadings are scaled by each scale's first item; scalar "
            "invariance frees the factor means of the other languages against the first. "
            "A significant difference test means the constraint does not hold; with many "
            "answers small differences are significant, so read CFI (drop) and RMSEA too "
            "(<code>invariance_by_language.csv</code>).</p>", table(invariance)]
           if invariance is not None else
           ["<p>Measurement invariance was not run for this report.</p>"])
    return "\n".join([
        "<h2>Across languages (nb, da, en)</h2>",
        f"<p>{n_lang} language(s) in the data. Reliability per scale and language, and item "
        "means with a one-way ANOVA across languages (descriptive: language coincides with "
        "site and class).</p>",
        table(rel), *inv,
        "<details><summary>Item means by language (<code>items_by_language.csv</code>)</summary>",
        table(items), "</details>",
    ])
