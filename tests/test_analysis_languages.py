"""By-language reliability and item means against pingouin and scipy; measurement
invariance against lavaan's published Holzinger-Swineford example."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats

from analysis import languages as L
from analysis_fixtures import tidy_study


@pytest.fixture(scope="module")
def tidy(tmp_path_factory):
    return tidy_study(n=900, seed=21, tmp_path=tmp_path_factory.mktemp("l"))


def test_alpha_by_language_matches_pingouin(tidy):
    rel = L.reliability_by_language(tidy)
    base = tidy[tidy.consented.fillna(False).astype(bool) & ~tidy.withdrawn.fillna(False).astype(bool)]
    assert set(rel.language) == set(base.language.dropna())
    for lang in rel.language.unique():
        X = base.loc[base.language == lang, ["trust_1", "trust_2", "trust_3", "trust_4"]].dropna()
        a, ci = pg.cronbach_alpha(X, ci=0.95)
        r = rel[(rel.scale == "trust_manager") & (rel.language == lang)].iloc[0]
        assert r.n == len(X)
        assert r.alpha == pytest.approx(a, abs=1e-12)
        assert (r.alpha_ci_low, r.alpha_ci_high) == pytest.approx(tuple(ci), abs=6e-3)  # pingouin rounds to 3 dp


def test_item_means_and_anova(tidy):
    it = L.item_means_by_language(tidy)
    base = tidy[tidy.consented.fillna(False).astype(bool) & ~tidy.withdrawn.fillna(False).astype(bool)]
    r = it[it.item == "collab_3"].iloc[0]
    groups = [base.loc[base.language == lang, "collab_3"].dropna() for lang in ("nb", "da", "en")]
    assert r.mean_da == pytest.approx(groups[1].mean())
    assert r.sd_en == pytest.approx(groups[2].std(ddof=1))
    F, p = stats.f_oneway(*groups)
    assert (r.anova_F, r.anova_p) == pytest.approx((F, p))


# lavaan (tutorial, "Measurement invariance"; semTools::measurementInvariance) on
# HolzingerSwineford1939, group = school, ML: chi-square, df, and the anova() differences.
LAVAAN_HS = {"configural": (115.851, 48), "metric": (124.044, 54), "scalar": (164.103, 60)}
LAVAAN_HS_DELTA = {"metric": (8.1922, 6, 0.2244), "scalar": (40.0590, 6, 4.435e-07)}
HS_FACTORS = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
              "speed": ["x7", "x8", "x9"]}


@pytest.fixture(scope="module")
def hs_invariance():
    from semopy.examples import holzinger39
    data = holzinger39.get_data()
    assert len(data) == 301 and data.school.value_counts().to_dict() == {"Pasteur": 156,
                                                                           "Grant-White": 145}
    return L.mgcfa_invariance(data, HS_FACTORS, "school", ["Pasteur", "Grant-White"])


def test_invariance_reproduces_lavaan_holzinger_swineford(hs_invariance):
    res = hs_invariance.set_index("level")
    assert res.converged.all()
    for level, (chi2, df) in LAVAAN_HS.items():
        assert res.loc[level, "df"] == df
        assert res.loc[level, "chi2"] == pytest.approx(chi2, abs=1e-3)
    for level, (dchi2, ddf, dp) in LAVAAN_HS_DELTA.items():
        assert res.loc[level, "delta_chi2"] == pytest.approx(dchi2, abs=1e-3)
        assert res.loc[level, "delta_df"] == ddf
        assert res.loc[level, "delta_p"] == pytest.approx(dp, rel=1e-3)


def test_grouped_objective_equals_semopys_own_fiml():
    """The fast objective and gradient equal semopy's row-by-row ModelMeans FIML at
    arbitrary parameter values, on data with two missing-value patterns (stacked groups)."""
    import semopy
    from semopy.examples import holzinger39
    data = holzinger39.get_data().iloc[::3]  # ~100 rows: semopy's own version is slow
    factors = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"]}
    items = [x for xs in factors.values() for x in xs]
    wide = pd.concat([pd.DataFrame(data.loc[data.school == s, items].to_numpy(),
                                   columns=[f"{x}__g{g}" for x in items])
                      for g, s in enumerate(["Pasteur", "Grant-White"])], ignore_index=True)
    rng = np.random.default_rng(3)
    for level in L.LEVELS:
        desc = L._mgcfa_desc(factors, 2, level)
        ours, theirs = L._grouped_means_model()(desc), semopy.ModelMeans(desc)
        ours.fit(wide, options={"maxiter": 1})
        theirs.fit(wide, options={"maxiter": 1})
        for _ in range(3):
            x = theirs.param_vals + rng.normal(0, 0.05, len(theirs.param_vals))
            n = len(wide)  # ours is per row
            assert n * ours.obj_fiml(x) == pytest.approx(theirs.obj_fiml(x), rel=1e-10)
            assert n * ours.grad_fiml(x) == pytest.approx(theirs.grad_fiml(x), rel=1e-8, abs=1e-8)


def test_invariance_fit_indices_by_formula(hs_invariance):
    """CFI and RMSEA from the independence model computed directly (free means and
    variances per group, closed form), and the p-value from the chi-square distribution."""
    from semopy.examples import holzinger39
    data = holzinger39.get_data()
    items = [x for xs in HS_FACTORS.values() for x in xs]
    chi2_b = 0.0
    for _, g in data.groupby("school"):
        S = np.cov(g[items].to_numpy(float), rowvar=False, bias=True)
        chi2_b += len(g) * (np.log(np.diag(S)).sum() - np.log(np.linalg.det(S)))
    df_b = 2 * 9 * 8 // 2
    for r in hs_invariance.itertuples():
        assert r.cfi == pytest.approx(1 - (r.chi2 - r.df) / (chi2_b - df_b))
        assert r.rmsea == pytest.approx(np.sqrt((r.chi2 - r.df) / (r.df * 301)) * np.sqrt(2))
        assert r.p == pytest.approx(stats.chi2.sf(r.chi2, r.df))
    # lavaan's fitMeasures for the configural model, to its printed 3 decimals
    assert hs_invariance.loc[0, ["cfi", "rmsea"]].tolist() == pytest.approx([0.923, 0.097], abs=6e-4)


def test_configural_is_the_sum_of_separate_group_fits(tidy):
    """Configural = each language fitted on its own: the chi-squares add up. Checked
    against statsmodels' one-factor ML where the scale has 4 items (df 2 per group)."""
    base = tidy[tidy.consented.fillna(False).astype(bool) & ~tidy.withdrawn.fillna(False).astype(bool)]
    items = ["trust_1", "trust_2", "trust_3", "trust_4"]
    d = base[["language", *items]].dropna()
    d = d.assign(language=d.language.astype(object))
    res = L.mgcfa_invariance(d, {"trust": items}, "language", ["nb", "da", "en"]).set_index("level")
    total = sum(_one_factor_chi2(d.loc[d.language == lang, items].to_numpy(float))
                for lang in ("nb", "da", "en"))
    assert res.loc["configural", "df"] == 3 * 2
    assert res.loc["configural", "chi2"] == pytest.approx(total, rel=1e-3, abs=1e-3)


def _one_factor_chi2(X):
    """N times the ML discrepancy of statsmodels' one-factor ML fit (independent of semopy)."""
    from statsmodels.multivariate.factor import Factor
    S = np.cov(X, rowvar=False, bias=True)
    fa = Factor(corr=np.corrcoef(X, rowvar=False), n_factor=1, method="ml", nobs=len(X)).fit()
    L1 = fa.loadings * np.sqrt(np.diag(S))[:, None]
    Sigma = L1 @ L1.T + np.diag(np.diag(S) - (L1 ** 2).ravel())
    return len(X) * (np.log(np.linalg.det(Sigma)) + np.trace(S @ np.linalg.inv(Sigma))
                     - np.log(np.linalg.det(S)) - X.shape[1])


def test_large_groups_fit_as_well_as_small_ones():
    """90,000 answers: the optimiser still reaches the optimum (configural = statsmodels'
    per-group fits; nested chi-squares increase); non-invariant intercepts are detected."""
    rng = np.random.default_rng(8)
    lam, nu = np.array([1.0, 0.8, 1.2, 0.9]), np.array([3.0, 3.5, 2.5, 4.0])
    frames = []
    for g, shift in zip("abc", (0.0, 0.0, 0.3)):  # group c: item 2's intercept shifted
        f = rng.normal(0, 1, 30_000)
        X = nu + np.outer(f, lam) + rng.normal(0, 0.7, (30_000, 4))
        X[:, 1] += shift
        frames.append(pd.DataFrame(X, columns=["y1", "y2", "y3", "y4"]).assign(grp=g))
    d = pd.concat(frames, ignore_index=True)
    res = L.mgcfa_invariance(d, {"f": ["y1", "y2", "y3", "y4"]}, "grp").set_index("level")
    expected = sum(_one_factor_chi2(fr[["y1", "y2", "y3", "y4"]].to_numpy()) for fr in frames)
    assert res.loc["configural", "chi2"] == pytest.approx(expected, rel=1e-3, abs=1e-2)
    assert res.converged.all()
    assert res.loc["metric", "delta_p"] > 0.001 and res.loc["scalar", "delta_p"] < 1e-10


def test_invariance_by_language_per_scale(tidy):
    inv = L.invariance_by_language(tidy)
    assert set(inv.scale) == set(L.SCALES)
    for scale, items in L.SCALES.items():
        rows = inv[inv.scale == scale].set_index("level")
        k, G = len(items), 3
        assert list(rows.index) == list(L.LEVELS)
        assert rows.loc["configural", "df"] == G * (k * (k + 1) // 2 + k) - G * 3 * k
        assert rows.loc["metric", "delta_df"] == (G - 1) * (k - 1)
        assert rows.loc["scalar", "delta_df"] == (G - 1) * (k - 1)  # k intercepts less 1 mean
        if k == 3:  # just-identified: nothing to test at the configural level
            assert rows.loc["configural", "df"] == 0 and rows.loc["configural", "chi2"] == 0
            assert "just-identified" in rows.loc["configural", "note"]
            assert rows.loc["metric", "chi2"] == pytest.approx(rows.loc["metric", "delta_chi2"])
    assert inv.converged.all()


def test_invariance_needs_two_languages(tidy):
    one = tidy[tidy.language.astype(object) == "nb"]
    inv = L.invariance_by_language(one)
    assert inv.level.isna().all() and inv.note.str.startswith("not tested").all()


def test_section_reports_invariance(tidy):
    rel, it = L.reliability_by_language(tidy), L.item_means_by_language(tidy)
    h = L.languages_section(rel, it, lambda df: df.to_html(), L.invariance_by_language(tidy))
    assert "invariance" in h and "not tested" not in h and "just-identified" in h
    assert "metric" in h and "scalar" in h
    assert "not run" in L.languages_section(rel, it, lambda df: df.to_html())
    assert np.isfinite(rel.omega).all()


def test_a_constant_item_is_reported_not_raised(tidy):
    t = tidy.copy()
    t.loc[t.language.astype(object) == "da", "psm_2"] = 3
    inv = L.invariance_by_language(t)
    psm = inv[inv.scale == "psm"]
    assert len(psm) == 1 and "singular" in psm.note.iloc[0] and psm.level.isna().all()
    assert (inv[inv.scale == "trust_manager"].level.tolist() == list(L.LEVELS))
